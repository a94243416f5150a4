from django.contrib import admin

from otklik.library.models import Story


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    """Read-only: a story's text is only ever changed by hiding more, on the story page."""

    list_display = ("title", "kind", "status", "topic", "published_at")
    list_filter = ("status", "kind")
    readonly_fields = [f.name for f in Story._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
