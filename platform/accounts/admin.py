from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class VeritalkUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "vetted", "is_staff")
    list_filter = ("role", "vetted", "is_staff")
    fieldsets = UserAdmin.fieldsets + (("Veritalk", {"fields": ("role", "vetted", "vetted_at", "vetted_by", "vetting_note")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Veritalk", {"fields": ("role", "vetted")}),)
