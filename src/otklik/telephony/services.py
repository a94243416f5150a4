"""Writes on calls: apply the PBX's events, pop the client card, wrap up, call back.

`call_event_apply` is idempotent by event id and takes the call row under a lock, so
events arriving twice or concurrently for one call are applied once and in turn. The
screen pop is a live event to the operator at the ringing extension only (live app,
pushed after commit over the workspace's WebSocket).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import User
from otklik.cases.models import Case, Direction, Interaction
from otklik.cases.services import interaction_register
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.common.errors import NotAllowed, ServiceError
from otklik.common.phones import format_phone, phone_digits
from otklik.live.services import publish
from otklik.telephony.models import (
    Call,
    Callback,
    CallbackStatus,
    CallDirection,
    CallEvent,
    CallStatus,
    OperatorExtension,
)

EVENT_TYPES = ("ringing", "answered", "hold", "unhold", "transfer", "hangup")
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class CallEventData:
    """One event as the PBX posts it (validated by the API schema)."""

    event_id: str
    type: str
    call_id: str
    occurred_at: datetime
    direction: str = CallDirection.INBOUND
    caller: str = ""
    callee: str = ""
    line: str = ""
    extension: str = ""
    transfer_to: str = ""
    recording_url: str = ""


def clients_by_number(number: str) -> list[Client]:
    """Clients with this phone among their contacts (a shared number gives several)."""
    digits = phone_digits(number)
    if len(digits) != 10:
        return []
    ids = ContactPoint.objects.filter(kind=ChannelKind.PHONE, value=f"+7{digits}").values(
        "client_id"
    )
    return list(Client.objects.filter(pk__in=ids).order_by("pk")[:MAX_CANDIDATES])


def _operator_at(extension: str) -> User | None:
    if not extension:
        return None
    found = OperatorExtension.objects.filter(extension=extension, user__is_active=True).first()
    return found.user if found else None


def _seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(int((end - start).total_seconds()), 0)


def _pop(call: Call, operator: User, candidates: list[Client]) -> None:
    """The screen pop: the client card(s) for the number, or a search for unknown ones."""
    number = format_phone(call.number)
    clients = [
        {
            "id": c.pk,
            "name": c.full_name,
            "card_url": reverse("workspace:client_card", args=[c.pk]) + "?intake=phone#intake",
        }
        for c in candidates
    ]
    if len(candidates) == 1:
        text = _("Incoming call: %(number)s, %(name)s") % {
            "number": number,
            "name": candidates[0].full_name,
        }
    else:
        text = _("Incoming call: %(number)s") % {"number": number}
    publish(
        user_ids=[operator.pk],
        kind="call.ringing",
        text=text,
        payload={
            "call": call.pk,
            "number": number,
            "clients": clients,
            "search_url": reverse("workspace:client_search"),
            "call_url": reverse("telephony:call", args=[call.pk]),
        },
    )


def _apply(call: Call, event: CallEventData) -> None:
    at = event.occurred_at
    if event.type == "ringing":
        operator = _operator_at(event.extension)
        call.extension, call.operator = event.extension, operator
        if call.status != CallStatus.RINGING:
            return
        if operator is not None and call.direction == CallDirection.INBOUND:
            _pop(call, operator, clients_by_number(call.number))
    elif event.type == "answered" and call.answered_at is None:
        call.answered_at, call.status = at, CallStatus.ANSWERED
        call.ring_seconds = _seconds(call.started_at, at)
        call.answered_in_target = call.ring_seconds <= settings.OTKLIK_SL_SECONDS["phone"]
        if event.extension:
            call.extension = event.extension
            call.operator = _operator_at(event.extension) or call.operator
        if call.direction == CallDirection.OUTBOUND:
            _close_callback_for(call, at)
    elif event.type == "hold" and call.status == CallStatus.ANSWERED:
        call.status, call.hold_started_at = CallStatus.ON_HOLD, at
    elif event.type == "unhold" and call.status == CallStatus.ON_HOLD:
        call.hold_seconds += _seconds(call.hold_started_at, at)
        call.status, call.hold_started_at = CallStatus.ANSWERED, None
    elif event.type == "transfer" and event.transfer_to:
        call.transfers += 1
        call.extension = event.transfer_to
        operator = _operator_at(event.transfer_to)
        call.operator = operator
        if operator is not None:
            _pop(call, operator, [call.client] if call.client else clients_by_number(call.number))
    elif event.type == "hangup" and call.ended_at is None:
        _hang_up(call, event, at)


def _hang_up(call: Call, event: CallEventData, at: datetime) -> None:
    call.ended_at = at
    if event.recording_url:
        call.recording_url = event.recording_url[:500]
    if call.status == CallStatus.ON_HOLD:
        call.hold_seconds += _seconds(call.hold_started_at, at)
        call.hold_started_at = None
    if call.answered_at is None:
        call.status = CallStatus.MISSED
        call.ring_seconds = _seconds(call.started_at, at)
        if call.direction == CallDirection.INBOUND:
            call.abandoned = True
            Callback.objects.get_or_create(
                call=call,
                defaults={
                    "number": call.number,
                    "client": call.client,
                    "due_at": at + timedelta(minutes=settings.OTKLIK_CTI_CALLBACK_MINUTES),
                    "created_at": at,
                },
            )
        return
    call.status = CallStatus.ENDED
    call.talk_seconds = max(_seconds(call.answered_at, at) - call.hold_seconds, 0)
    if call.operator is not None:
        publish(
            user_ids=[call.operator_id],
            kind="call.ended",
            text=_("Call with %(number)s ended: attach it to a case")
            % {"number": format_phone(call.number)},
            payload={"call": call.pk, "call_url": reverse("telephony:call", args=[call.pk])},
        )


def _close_callback_for(call: Call, at: datetime) -> None:
    """An answered outbound call to a number waiting for a callback settles it."""
    Callback.objects.filter(
        number=call.number, status__in=[CallbackStatus.OPEN, CallbackStatus.CALLING]
    ).update(status=CallbackStatus.DONE, done_at=at)


def call_event_apply(*, event: CallEventData, now: datetime | None = None) -> tuple[Call, bool]:
    """Apply one PBX event; (the call, whether the event was new). A repeat changes nothing."""
    now = now or timezone.now()
    if event.type not in EVENT_TYPES:
        raise ServiceError({"type": _("Unknown event type.")})
    known = CallEvent.objects.filter(event_id=event.event_id).select_related("call").first()
    if known is not None:
        return known.call, False
    try:
        with transaction.atomic():
            call = _locked_call(event)
            CallEvent.objects.create(
                event_id=event.event_id,
                call=call,
                kind=event.type,
                occurred_at=event.occurred_at,
                received_at=now,
                payload={k: str(v) for k, v in event.__dict__.items() if v and k != "occurred_at"},
            )
            _apply(call, event)
            call.save()
            return call, True
    except IntegrityError:
        known = CallEvent.objects.select_related("call").filter(event_id=event.event_id).first()
        if known is None:  # two first events of one call raced to create it: apply again
            return call_event_apply(event=event, now=now)
        return known.call, False


def _locked_call(event: CallEventData) -> Call:
    """The call row under a lock (created at its first event, whichever arrives first)."""
    direction = (
        event.direction if event.direction in CallDirection.values else CallDirection.INBOUND
    )
    number = event.caller if direction == CallDirection.INBOUND else event.callee
    call = Call.objects.select_for_update().filter(call_id=event.call_id).first()
    if call is not None:
        return call
    digits = phone_digits(number)
    candidates = clients_by_number(number)
    call, _created = Call.objects.get_or_create(
        call_id=event.call_id,
        defaults={
            "direction": direction,
            "number": f"+7{digits}" if len(digits) == 10 else number[:32],
            "line": event.line[:32],
            "client": candidates[0] if len(candidates) == 1 else None,
            "started_at": event.occurred_at,
        },
    )
    return Call.objects.select_for_update().get(pk=call.pk)


def _require_own(actor: User, call: Call) -> None:
    if not (actor.sees_everything or call.operator_id == actor.pk):
        raise NotAllowed({"call": _("This call was not yours.")})


@transaction.atomic
def call_identify(*, actor: User, call: Call, client: Client) -> Call:
    """The operator found who called (an unknown number, or one shared by several)."""
    _require_own(actor, call)
    Call.objects.filter(pk=call.pk).update(client=client)
    Callback.objects.filter(call=call).update(client=client)
    call.client = client
    return call


def _summary(call: Call, note: str) -> str:
    lines = [note.strip()] if note.strip() else []
    lines.append(
        _("Ring %(ring)s s, talk %(talk)s s, hold %(hold)s s.")
        % {"ring": call.ring_seconds, "talk": call.talk_seconds, "hold": call.hold_seconds}
    )
    if call.recording_url:
        lines.append(_("Recording: %(url)s") % {"url": call.recording_url})
    return "\n".join(lines)


@transaction.atomic
def call_attach(
    *,
    actor: User,
    call: Call,
    case: Case | None = None,
    new_case_subject: str = "",
    note: str = "",
) -> Interaction:
    """Record the call on the case the operator chose (or a new one): an interaction with
    the direction, the operator, the durations and the recording link."""
    _require_own(actor, call)
    if call.interaction_id is not None:
        raise ServiceError({"call": _("The call is already attached to a case.")})
    if call.client_id is None:
        raise ServiceError({"client": _("Find the client first.")})
    interaction = interaction_register(
        actor=actor,
        client=call.client,
        channel=ChannelKind.PHONE,
        case=case,
        new_case_subject=new_case_subject,
        direction=Direction.INBOUND
        if call.direction == CallDirection.INBOUND
        else Direction.OUTBOUND,
        summary=_summary(call, note),
        external_ref=call.call_id,
        now=call.ended_at or timezone.now(),
    )
    Interaction.objects.filter(pk=interaction.pk).update(
        started_at=call.started_at, ended_at=call.ended_at, operator=call.operator or actor
    )
    Call.objects.filter(pk=call.pk).update(case=interaction.case, interaction=interaction)
    call.case, call.interaction = interaction.case, interaction
    return interaction


@transaction.atomic
def callback_start(*, actor: User, callback: Callback, now: datetime | None = None) -> str:
    """One click: the callback is the operator's now; returns the number to dial (tel:)."""
    now = now or timezone.now()
    if callback.status == CallbackStatus.DONE:
        raise ServiceError({"callback": _("This callback is already done.")})
    Callback.objects.filter(pk=callback.pk).update(
        status=CallbackStatus.CALLING, taken_by=actor, taken_at=now, attempts=callback.attempts + 1
    )
    return f"tel:{callback.number}"


@transaction.atomic
def callback_done(*, actor: User, callback: Callback, now: datetime | None = None) -> None:
    Callback.objects.filter(pk=callback.pk).exclude(status=CallbackStatus.DONE).update(
        status=CallbackStatus.DONE, done_at=now or timezone.now(), taken_by=actor
    )
