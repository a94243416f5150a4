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
from otklik.analytics import selectors
from otklik.analytics.models import (
    NpsSurvey,
    ReportSubscription,
    SurveyCampaign,
    SurveyChannel,
    SurveyKind,
)
from otklik.analytics.selectors import Audience
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
    campaign: SurveyCampaign | None = None,
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
        campaign=campaign,
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


@transaction.atomic
def nps_relationship_send(
    *, actor: User, audience: Audience, now: datetime | None = None, limit: int | None = None
) -> SurveyCampaign:
    """A relationship survey to the clients the audience names (business line, segment,
    package level), skipping those asked within the quiet period and those without an
    address on the channel; at most `limit` (OTKLIK_NPS_RELATIONSHIP_MAX) per send, the
    rest go with the next send (those just asked are then in their quiet period).
    Every survey goes through the outbox in this transaction; the campaign records what
    was chosen and what became of it."""
    if not selectors.may_send_surveys(actor):
        raise ServiceError({"actor": _("Only supervisors send surveys.")})
    now = now or timezone.now()
    limit = settings.OTKLIK_NPS_RELATIONSHIP_MAX if limit is None else limit
    counts = selectors.audience_preview(audience, now)
    if counts["eligible"] == 0:
        raise ServiceError(
            {"audience": _("No client of this choice can be asked now (quiet period, no address).")}
        )
    campaign = SurveyCampaign.objects.create(
        created_by=actor,
        created_at=now,
        business_line=audience.business_line,
        segment=audience.segment,
        package_level_id=audience.package_level,
        channel=audience.channel,
        matched=counts["matched"],
        quiet=counts["quiet"],
        unreachable=counts["unreachable"],
    )
    chosen = selectors.audience_eligible(audience, now)
    sent = 0
    for client in chosen.order_by("pk")[:limit].iterator(chunk_size=500):
        try:
            nps_survey_send(
                client=client,
                channel=audience.channel,
                kind=SurveyKind.RELATIONSHIP,
                segment=audience.segment,
                campaign=campaign,
                now=now,
            )
        except ServiceError:
            continue  # asked a moment ago by another send: the quiet period holds
        sent += 1
    campaign.sent = sent
    campaign.save(update_fields=["sent"])
    return campaign


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
