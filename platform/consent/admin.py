from django.contrib import admin

from .models import Consent, Subject


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("display_name", "created_by", "account", "enrolled_at")
    readonly_fields = ("face_embedding", "enrolment_sha256", "enrolled_at")


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "creator", "granted_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
