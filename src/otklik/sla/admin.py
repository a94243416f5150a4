from django.contrib import admin

from otklik.cases.admin import GroupedTopicsAdminMixin
from otklik.sla.models import BusinessCalendar, CalendarDay, Deadline, SlaPolicy


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("date", "is_working", "start", "end", "note")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "is_24x7", "is_default")
    filter_horizontal = ("teams", "departments")
    inlines = [CalendarDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(GroupedTopicsAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "topic",
        "priority",
        "channel",
        "first_response_minutes",
        "resolution_minutes",
        "handoff_answer_minutes",
        "portal_answer_minutes",
        "is_active",
    )
    list_filter = ("is_active", "priority", "channel")


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    """Read-only: deadlines are written by the SLA services only."""

    list_display = ("case", "kind", "started_at", "due_at", "met_at", "breached_at", "paused_at")
    list_filter = ("kind",)
    date_hierarchy = "due_at"
    raw_id_fields = ("case", "handoff")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
