from django.contrib import admin

from otklik.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only: the access log is append-only."""

    list_display = (
        "created_at",
        "actor",
        "action",
        "client",
        "object_type",
        "object_id",
        "via",
        "ip",
    )
    list_filter = ("action", "via")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "client")
    raw_id_fields = ("actor", "client")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
