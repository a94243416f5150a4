from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from otklik.retention.models import RetentionRun
from otklik.retention.policy import LABELS


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Read-only: the log of what retention anonymised and deleted, in counts."""

    list_display = ("started_at", "trigger", "dry_run", "complete", "totals")
    list_filter = ("trigger", "dry_run", "complete")
    date_hierarchy = "started_at"
    fields = ("trigger", "dry_run", "started_at", "finished_at", "complete", "counts_table")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("anonymised / deleted / files"))
    def totals(self, run: RetentionRun) -> str:
        sums = [sum(c.get(key, 0) for c in run.counts.values()) for key in _KEYS]
        return " / ".join(str(n) for n in sums)

    @admin.display(description=_("counts"))
    def counts_table(self, run: RetentionRun) -> str:
        head = format_html_join(
            "", "<th>{}</th>", [(h,) for h in (_("data class"), _("days"), *_HEADERS)]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (LABELS.get(name, name), c.get("days", ""), *(c.get(key, 0) for key in _KEYS))
                for name, c in run.counts.items()
            ),
        )
        return format_html("<table><tr>{}</tr>{}</table>", head, rows)


_KEYS = ("anonymised", "deleted", "files")
_HEADERS = (_("rows anonymised"), _("rows deleted"), _("files removed"))
