from django.contrib import admin

from otklik.proposals.models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Read-only here: the workflow and merging go through the proposal page (services)."""

    list_display = ("title", "status", "topic", "department", "created_at")
    list_filter = ("status", "department")
    search_fields = ("title",)
    readonly_fields = [f.name for f in Proposal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
