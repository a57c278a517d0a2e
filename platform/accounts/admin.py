from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from .models import User, VettingRequest
from .services import VettingError, set_vetted


@admin.register(User)
class VeritalkUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "vetted", "is_staff")
    list_filter = ("role", "vetted", "is_staff")
    fieldsets = UserAdmin.fieldsets + (("Veritalk", {"fields": ("role", "vetted", "vetting_note",
                                                                 "vetted_at", "vetted_by")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Veritalk", {"fields": ("role",)}),)
    readonly_fields = ("vetted_at", "vetted_by")

    def save_model(self, request, obj, form, change):
        """Vetting changes go through accounts.services (a note is required; audited)."""
        wanted = obj.vetted
        if change and "vetted" in form.changed_data:
            obj.vetted = not wanted  # keep the old state until the service applies the new one
            super().save_model(request, obj, form, change)
            try:
                set_vetted(obj, by=request.user, vetted=wanted, note=obj.vetting_note)
            except VettingError as exc:
                self.message_user(request, f"vetting not changed: {exc.message}", level=messages.ERROR)
            return
        if not change:
            obj.vetted = False  # new accounts start unvetted
        super().save_model(request, obj, form, change)


@admin.register(VettingRequest)
class VettingRequestAdmin(admin.ModelAdmin):
    """The requests, for the record; decisions are taken on the portal's vetting page
    (/moderation/vetting/), which notes them in the audit log and e-mails the applicant."""
    list_display = ("user", "created_at", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    search_fields = ("user__username", "user__email", "message")
    readonly_fields = ("user", "message", "created_at", "decision", "decided_at", "decided_by", "note")

    def has_add_permission(self, request):
        return False
