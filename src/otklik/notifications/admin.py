from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from otklik.notifications.models import Outbox
from otklik.notifications.services import outbox_retry_now


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """The outbox as an operations page: what is stuck, why, and a "retry now" button."""

    list_display = (
        "id",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
        "created_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("key", "address")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    # `body` of a message with a one-time code is stored masked; the sealed full text is
    # never shown (it is not an editable field, and it is left out here on purpose).
    readonly_fields = [f.name for f in Outbox._meta.fields if f.name != "sealed_body"]
    exclude = ("sealed_body",)
    list_select_related = False

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("last error"))
    def short_error(self, obj: Outbox) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        revived = outbox_retry_now(outbox_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again.",
                "%(count)d messages will be sent again.",
                revived,
            )
            % {"count": revived},
            messages.SUCCESS,
        )
