from django.contrib import admin

from otklik.handoffs.models import Handoff


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = ("case", "department", "status", "created_at", "due_at")
    list_filter = ("department", "status")
    raw_id_fields = ("case", "created_by", "assignee")
