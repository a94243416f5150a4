from django.contrib import admin

from otklik.cases.models import Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Topics are configuration; cases themselves are worked in the workspace, not here."""

    list_display = ("name", "parent", "default_team", "is_active")
    list_filter = ("is_active", "default_team")
    search_fields = ("name",)
