from django.contrib import admin
from django.utils.translation import gettext as _

from otklik.cases.models import Topic


def grouped_topic_choices(queryset) -> list:
    """A topic picker's choices in <optgroup>s by business line (common topics first)."""
    groups: dict[str, list] = {}
    labels: dict[str, str] = {}
    for topic in queryset.order_by("business_line", "name", "id"):
        groups.setdefault(topic.business_line, []).append((topic.pk, topic.name))
        labels[topic.business_line] = topic.get_business_line_display() or _("Common to all lines")
    return [("", "---------"), *((labels[line], items) for line, items in groups.items())]


class GroupedTopicsAdminMixin:
    """Every topic foreign key in this admin offers topics grouped by business line."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Topic:
            field.choices = grouped_topic_choices(field.queryset)
        return field


@admin.register(Topic)
class TopicAdmin(GroupedTopicsAdminMixin, admin.ModelAdmin):
    """Topics are configuration; cases themselves are worked in the workspace, not here."""

    list_display = (
        "name",
        "business_line",
        "visible_to_clients",
        "parent",
        "default_team",
        "is_active",
    )
    list_filter = ("business_line", "visible_to_clients", "is_active", "default_team")
    ordering = ("business_line", "name")
    search_fields = ("name",)
