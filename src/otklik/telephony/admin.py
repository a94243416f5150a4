from django.contrib import admin

from otklik.telephony.models import OperatorExtension


@admin.register(OperatorExtension)
class OperatorExtensionAdmin(admin.ModelAdmin):
    """Who sits at which extension: screen pops follow this table."""

    list_display = ("extension", "user")
    search_fields = ("extension", "user__username", "user__last_name")
    autocomplete_fields = ("user",)
