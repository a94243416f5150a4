"""Tell open case pages that their case changed (the transport of the "live case page").

Every change to a case writes a `CaseEvent` row (cases.services); after the commit its
id goes to the case's presence group, and each open page fetches what is new since the
event it last saw. Only an id travels: what the page shows is read through the same
visibility rules as the page itself.
"""

import asyncio
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from otklik.cases.models import CaseEvent


def case_group(case_id: int) -> str:
    """The Channels group of every open page of one case."""
    return f"presence.case.{case_id}"


def _push(case_id: int, event_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    def send() -> None:
        async_to_sync(layer.group_send)(
            case_group(case_id), {"type": "case.changed", "event": event_id}
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a sync view or task, no loop in this thread
        send()
    else:  # sync code called with a loop running in its thread (a script, a browser test)
        threading.Thread(target=send, daemon=True).start()


@receiver(post_save, sender=CaseEvent, dispatch_uid="presence_case_changed")
def _case_event_saved(sender, instance: CaseEvent, created: bool, **kwargs) -> None:
    if created:
        case_id, event_id = instance.case_id, instance.pk
        transaction.on_commit(lambda: _push(case_id, event_id))
