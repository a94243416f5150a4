"""Reads on calls: whose call this is, the callback list, and the call figures (SL, AHT)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from otklik.accounts.models import Role, User
from otklik.telephony.models import Call, Callback, CallbackStatus, CallDirection, CallStatus


def call_get_for_user(*, user: User, call_id: int) -> Call:
    """The operator's own call (or any, for supervisors); 404 otherwise."""
    calls = Call.objects.select_related("client", "case", "operator")
    if not user.sees_everything:
        calls = calls.filter(operator=user)
    call = calls.filter(pk=call_id).first()
    if call is None:
        raise Http404("call not found")
    return call


def can_call_back(*, user: User) -> bool:
    return user.is_active and (user.sees_everything or user.role != Role.SPECIALIST)


def callbacks_open() -> QuerySet[Callback]:
    """Missed calls still to return, the most urgent first."""
    return (
        Callback.objects.exclude(status=CallbackStatus.DONE)
        .select_related("client", "taken_by", "call")
        .order_by("due_at", "pk")
    )


def callback_get_for_user(*, user: User, callback_id: int) -> Callback:
    if not can_call_back(user=user):
        raise Http404("callback not found")
    callback = Callback.objects.filter(pk=callback_id).first()
    if callback is None:
        raise Http404("callback not found")
    return callback


def calls_to_wrap_up(*, user: User) -> QuerySet[Call]:
    """The operator's finished calls not yet attached to a case."""
    return Call.objects.filter(
        operator=user, status=CallStatus.ENDED, interaction__isnull=True
    ).select_related("client")


@dataclass(frozen=True)
class CallFigures:
    offered: int
    answered: int
    answered_in_target: int
    abandoned: int
    talk_seconds: int
    hold_seconds: int

    @property
    def service_level(self) -> float | None:
        """Share of offered calls answered within the target (e.g. 80/20)."""
        return self.answered_in_target / self.offered if self.offered else None

    @property
    def average_handle_seconds(self) -> float | None:
        """AHT: talk plus hold per answered call (wrap-up time is not reported by the PBX)."""
        if not self.answered:
            return None
        return (self.talk_seconds + self.hold_seconds) / self.answered


def call_figures(*, start: datetime, end: datetime) -> CallFigures:
    """Inbound calls offered in [start, end) and how they went, in one query."""
    done = Q(status__in=[CallStatus.ENDED, CallStatus.MISSED])
    row = Call.objects.filter(
        done, direction=CallDirection.INBOUND, started_at__gte=start, started_at__lt=end
    ).aggregate(
        offered=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        in_target=Count("pk", filter=Q(answered_in_target=True)),
        abandoned=Count("pk", filter=Q(abandoned=True)),
        talk=Sum("talk_seconds"),
        hold=Sum("hold_seconds"),
    )
    return CallFigures(
        offered=row["offered"],
        answered=row["answered"],
        answered_in_target=row["in_target"],
        abandoned=row["abandoned"],
        talk_seconds=row["talk"] or 0,
        hold_seconds=row["hold"] or 0,
    )
