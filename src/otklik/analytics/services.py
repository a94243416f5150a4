"""NPS surveys (send after a closed case or to a segment, answer) and weekly-report
subscriptions. Every send goes through the outbox inside the same transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.analytics.models import (
    NpsSurvey,
    ReportSubscription,
    SurveyChannel,
    SurveyKind,
)
from otklik.cases.models import Case, CaseStatus
from otklik.clients.models import ChannelKind, Client, ContactPoint, Reachability
from otklik.common.errors import ServiceError
from otklik.common.links import absolute_reverse
from otklik.notifications.services import notify

AFTER_CASE_WINDOW = timedelta(days=2)  # a case closed longer ago is not surveyed any more


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def in_quiet_period(client_id: int, now: datetime) -> bool:
    """True when the client was asked within the quiet period (any kind of survey)."""
    since = now - timedelta(days=settings.OTKLIK_NPS_QUIET_DAYS)
    return NpsSurvey.objects.filter(client_id=client_id, sent_at__gt=since).exists()


def _address(client: Client, channel: str) -> str:
    kind = ChannelKind.EMAIL if channel == SurveyChannel.EMAIL else ChannelKind.PHONE
    point = (
        ContactPoint.objects.filter(client=client, kind=kind)
        .exclude(reachability=Reachability.UNREACHABLE)
        .order_by("-is_primary", "pk")
        .first()
    )
    return point.value if point else ""


@transaction.atomic
def nps_survey_send(
    *,
    client: Client,
    channel: str,
    kind: str,
    case: Case | None = None,
    segment: str = "",
    now: datetime | None = None,
) -> NpsSurvey:
    """Ask one client the NPS question, unless they were asked within the quiet period.
    E-mail and SMS carry a link to the one-question page; the portal shows the same link."""
    now = now or timezone.now()
    if channel not in SurveyChannel.values:
        raise ServiceError({"channel": _("Unknown survey channel.")})
    if kind not in SurveyKind.values:
        raise ServiceError({"kind": _("Unknown survey kind.")})
    # Lock the client's row so two scans cannot both pass the quiet-period check.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    if in_quiet_period(client.pk, now):
        raise ServiceError({"client": _("The client was asked recently (quiet period).")})
    address = _address(client, channel) if channel != SurveyChannel.PORTAL else ""
    if channel != SurveyChannel.PORTAL and not address:
        raise ServiceError({"channel": _("The client has no address on this channel.")})
    raw = secrets.token_urlsafe(24)
    survey = NpsSurvey.objects.create(
        client=client,
        case=case,
        kind=kind,
        channel=channel,
        segment=segment,
        token_hash=token_hash(raw),
        sent_at=now,
        team_id=(case.team_id or 0) if case else 0,
        operator_id=(case.owner_id or 0) if case else 0,
        topic_id=(case.topic_id or 0) if case else 0,
        case_channel=case.channel if case else "",
    )
    link = absolute_reverse("analytics:nps_answer", args=[raw])
    text = _("Would you recommend us to friends? Rate 0–10: %(link)s") % {"link": link}
    if channel != SurveyChannel.PORTAL:
        notify(
            key=f"nps:{survey.pk}",
            channel=channel,
            address=address,
            subject=_("Would you recommend us?"),
            body=text,
            client=client,
            case=case,
        )
    return survey


def nps_after_case_scan(now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: survey the clients of recently closed cases (e-mail if they have one,
    else SMS), skipping those within the quiet period. Returns surveys sent."""
    now = now or timezone.now()
    asked = NpsSurvey.objects.filter(case_id__isnull=False).values("case_id")
    cases = (
        Case.objects.filter(
            status=CaseStatus.CLOSED, closed_at__gt=now - AFTER_CASE_WINDOW, closed_at__lte=now
        )
        .exclude(pk__in=asked)
        .select_related("client")
        .order_by("closed_at")[:limit]
    )
    sent = 0
    for case in cases:
        if in_quiet_period(case.client_id, now):
            continue
        for channel in (SurveyChannel.EMAIL, SurveyChannel.SMS):
            try:
                nps_survey_send(
                    client=case.client,
                    channel=channel,
                    kind=SurveyKind.AFTER_CASE,
                    case=case,
                    now=now,
                )
            except ServiceError:
                continue
            sent += 1
            break
    return sent


def nps_relationship_send(
    *, actor: User, segment: str, channel: str, now: datetime | None = None, limit: int = 1000
) -> int:
    """A relationship survey to up to `limit` clients of a segment, quiet period honoured."""
    if not (actor.is_superuser or actor.role in (Role.SUPERVISOR, Role.ADMIN)):
        raise ServiceError({"actor": _("Only supervisors send surveys.")})
    from otklik.clients.models import Segment

    if segment not in Segment.values:
        raise ServiceError({"segment": _("Unknown segment.")})
    now = now or timezone.now()
    sent = 0
    for client in Client.objects.filter(segment=segment).order_by("pk").iterator():
        if sent >= limit:
            break
        try:
            nps_survey_send(
                client=client,
                channel=channel,
                kind=SurveyKind.RELATIONSHIP,
                segment=segment,
                now=now,
            )
        except ServiceError:
            continue
        sent += 1
    return sent


def nps_survey_by_token(raw: str) -> NpsSurvey | None:
    return NpsSurvey.objects.filter(token_hash=token_hash(raw)).first()


@transaction.atomic
def nps_answer(
    *, survey: NpsSurvey, score: int, comment: str = "", now: datetime | None = None
) -> NpsSurvey:
    """Record the answer once; a second answer is refused rather than overwriting."""
    if not 0 <= score <= 10:
        raise ServiceError({"score": _("The answer is a number from 0 to 10.")})
    changed = NpsSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        answered_at=now or timezone.now(), score=score, comment=comment.strip()[:2000]
    )
    if not changed:
        raise ServiceError({"score": _("This survey is already answered. Thank you!")})
    survey.refresh_from_db()
    return survey


@transaction.atomic
def report_subscribe(*, user: User, email: str = "") -> ReportSubscription:
    """Subscribe a supervisor (or a head) to the weekly report."""
    if not (user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN)):
        raise ServiceError({"user": _("The weekly report is for supervisors.")})
    address = (email or user.email).strip()
    if "@" not in address:
        raise ServiceError({"email": _("Give an e-mail address for the report.")})
    sub, _created = ReportSubscription.objects.update_or_create(
        user=user, defaults={"email": address, "created_at": timezone.now()}
    )
    return sub


def report_unsubscribe(*, user: User) -> None:
    ReportSubscription.objects.filter(user=user).delete()
