from django.contrib import admin

from .models import Case, CaseAction, Takedown


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "status", "decision", "created_by", "created_at")
    list_filter = ("status", "decision", "source")
    readonly_fields = [f.name for f in Case._meta.fields]


admin.site.register(CaseAction)
admin.site.register(Takedown)
