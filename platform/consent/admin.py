"""Admin pages. Changes that must be audited go through consent.services and
consent.protected, never through a bare model save."""
from django import forms
from django.contrib import admin, messages

from audit.chain import record

from .identity import embed_photo
from .models import Consent, Invitation, ProtectedPerson, Subject
from .services import ConsentError, elevate_consent, revoke_consent


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("display_name", "created_by", "account", "enrolled_at")
    readonly_fields = ("face_embedding", "enrolment_embeddings", "enrolment_sha256", "enrolled_at")


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "creator", "purposes", "granted_at", "expires_at", "revoked_at", "elevated_at")
    list_filter = ("revoked_at", "elevated_at")
    readonly_fields = ("revoked_at", "revoked_reason", "elevated_at", "elevated_by", "elevation_note")
    actions = ["revoke", "verify_elevated"]

    def has_change_permission(self, request, obj=None):
        return False  # scope changes are a new consent from the subject, not an edit

    @admin.action(description="Revoke the selected consents (cancels queued jobs, marks outputs revoked)")
    def revoke(self, request, queryset):
        for consent in queryset:
            revoke_consent(consent, actor=request.user, reason="revoked by an admin")
        self.message_user(request, f"{queryset.count()} consent(s) revoked.")

    @admin.action(description="Verify as elevated consent (faces on the protected list)")
    def verify_elevated(self, request, queryset):
        for consent in queryset:
            try:
                elevate_consent(consent, by=request.user, note=f"verified by {request.user.username} in the admin")
            except ConsentError as exc:
                self.message_user(request, f"consent #{consent.pk}: {exc.message}", level=messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("id", "creator", "display_name", "invitee", "created_at", "expires_at", "accepted_at")
    readonly_fields = ("token_sha256", "accepted_at", "accepted_by", "subject")


class ProtectedPersonForm(forms.ModelForm):
    photos = forms.FileField(required=False, help_text="A portrait of the person; only its face embedding is kept.")

    class Meta:
        model = ProtectedPerson
        fields = ("name", "note", "active")


@admin.register(ProtectedPerson)
class ProtectedPersonAdmin(admin.ModelAdmin):
    form = ProtectedPersonForm
    list_display = ("name", "active", "added_by", "created_at")
    list_filter = ("active",)

    def save_model(self, request, obj, form, change):

        upload = form.cleaned_data.get("photos")
        if upload:
            obj.embeddings = [*obj.embeddings, embed_photo(upload.read())]
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)
        record("protected.changed" if change else "protected.added", actor=request.user, target=obj,
               data={"name": obj.name, "active": obj.active, "photos": len(obj.embeddings)})
