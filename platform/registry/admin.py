from django.contrib import admin

from .models import RegistryEntry


@admin.register(RegistryEntry)
class RegistryEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "state", "watermark_payload", "revoked", "issued_at")
    list_filter = ("state", "revoked")
    readonly_fields = ("manifest",)
