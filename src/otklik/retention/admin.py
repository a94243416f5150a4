from django.contrib import admin

from otklik.retention.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Read-only: the log of what retention anonymised and deleted, in counts."""

    list_display = ("started_at", "trigger", "dry_run", "complete", "finished_at")
    list_filter = ("trigger", "dry_run", "complete")
    date_hierarchy = "started_at"
    readonly_fields = ("trigger", "dry_run", "started_at", "finished_at", "complete", "counts")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
