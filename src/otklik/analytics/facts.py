"""Raw rows → hourly counters. Each family reads the rows whose event time falls in
[since, until) and adds to the counters of the row's hour and dimensions.

Which time dates which figure (docs/metrics.md): a contact by its start, a chat offer by
its entry into the queue, a portal/e-mail case's first reply by the case's creation, a
rating or an NPS answer by when it was given, FCR by the resolution, an answer in the ЛК
by when it was posted. Rows are read with `.iterator()` so a rebuild over years of
history does not hold them in memory.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery

from otklik.analytics import metrics
from otklik.analytics.models import NpsSurvey
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    Direction,
    EventKind,
    Interaction,
    Message,
    MessageVisibility,
)
from otklik.chat.models import ChatRating, Conversation
from otklik.portal.models import CsiRating, PortalAnswer

Key = tuple[datetime, int, int, str, int]  # hour, team, operator, channel, topic
DIMENSIONS = ("team_id", "operator_id", "channel", "topic_id")
COUNTERS = (
    "contacts",
    "handled",
    "handle_seconds",
    "offered",
    "answered",
    "answered_in_sl",
    "wait_seconds",
    "csi_count",
    "csi_sum",
    "csi_good",
    "nps_count",
    "nps_promoters",
    "nps_detractors",
    "resolved",
    "fcr",
    "portal_answers",
    "portal_on_time",
)
# Channels whose offers come from interactions' queue wait; chat offers come from the chat
# queue (Conversation), portal and e-mail from the first public reply to the case.
QUEUE_CHANNELS = ("phone", "messenger", "office")
REPLY_CHANNELS = ("portal", "email")


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Buckets(defaultdict):
    """key → {counter: value}; `add` keeps the key free of NULLs."""

    def __init__(self) -> None:
        super().__init__(lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, at: datetime, team, operator, channel: str, topic, **counters: int) -> None:
        row = self[(floor_hour(at), team or 0, operator or 0, channel or "", topic or 0)]
        for name, value in counters.items():
            row[name] += int(value)


def _interactions(b: Buckets, since: datetime, until: datetime) -> None:
    rows = Interaction.objects.filter(started_at__gte=since, started_at__lt=until).values_list(
        "started_at",
        "ended_at",
        "wrap_up_seconds",
        "queue_seconds",
        "direction",
        "channel",
        "operator_id",
        "case__team_id",
        "operator__team_id",
        "case__topic_id",
    )
    for (
        started,
        ended,
        wrap,
        queue,
        direction,
        channel,
        op,
        case_team,
        op_team,
        topic,
    ) in rows.iterator(chunk_size=5000):
        team = case_team or op_team
        counters = {}
        if direction == Direction.INBOUND:
            counters["contacts"] = 1
        seconds = metrics.handle_seconds(started, ended, wrap) if op else None
        if seconds is not None:
            counters.update(handled=1, handle_seconds=seconds)
        if direction == Direction.INBOUND and channel in QUEUE_CHANNELS and queue is not None:
            answered = op is not None
            limit = settings.OTKLIK_SL_SECONDS.get(channel)
            counters.update(
                offered=1,
                answered=int(answered),
                answered_in_sl=int(answered and limit is not None and queue <= limit),
                wait_seconds=queue if answered else 0,
            )
        if counters:
            b.add(started, team, op, channel, topic, **counters)


def _chats(b: Buckets, since: datetime, until: datetime, now: datetime) -> None:
    """A chat is offered when it enters the queue; unanswered, it counts (as a miss) once
    it is closed or has waited past the threshold, so a waiting chat is not yet judged."""
    limit = settings.OTKLIK_SL_SECONDS["chat"]
    rows = Conversation.objects.filter(queued_at__gte=since, queued_at__lt=until).values_list(
        "queued_at",
        "first_operator_reply_at",
        "closed_at",
        "team_id",
        "operator_id",
        "case__topic_id",
        "chat_topic__topic_id",
    )
    for queued, replied, closed, team, op, case_topic, chat_topic in rows.iterator(chunk_size=5000):
        if replied is not None:
            wait = max(0.0, (replied - queued).total_seconds())
            b.add(
                queued,
                team,
                op,
                "chat",
                case_topic or chat_topic,
                offered=1,
                answered=1,
                answered_in_sl=int(wait <= limit),
                wait_seconds=int(wait),
            )
        elif closed is not None or (now - queued).total_seconds() > limit:
            b.add(queued, team, op, "chat", case_topic or chat_topic, offered=1)


def first_public_reply() -> Subquery:
    return Subquery(
        Message.objects.filter(
            case=OuterRef("pk"),
            author_kind=AuthorKind.STAFF,
            visibility=MessageVisibility.PUBLIC,
        )
        .order_by()
        .values("case")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )


def _first_replies(b: Buckets, since: datetime, until: datetime, now: datetime) -> None:
    """Portal and e-mail: the wait is from the case's creation to the first public staff
    reply; unanswered, it counts as a miss once the threshold has passed."""
    rows = (
        Case.objects.filter(created_at__gte=since, created_at__lt=until, channel__in=REPLY_CHANNELS)
        .annotate(first=first_public_reply())
        .values_list("created_at", "first", "team_id", "owner_id", "channel", "topic_id")
    )
    for created, first, team, owner, channel, topic in rows.iterator(chunk_size=5000):
        limit = settings.OTKLIK_SL_SECONDS[channel]
        if first is not None:
            wait = max(0.0, (first - created).total_seconds())
            b.add(
                created,
                team,
                owner,
                channel,
                topic,
                offered=1,
                answered=1,
                answered_in_sl=int(wait <= limit),
                wait_seconds=int(wait),
            )
        elif (now - created).total_seconds() > limit:
            b.add(created, team, owner, channel, topic, offered=1)


def _ratings(b: Buckets, since: datetime, until: datetime) -> None:
    portal = CsiRating.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "created_at", "score", "case__team_id", "case__owner_id", "case__channel", "case__topic_id"
    )
    for at, score, team, owner, channel, topic in portal.iterator(chunk_size=5000):
        b.add(at, team, owner, channel, topic, **_csi(score))
    chat = ChatRating.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "created_at",
        "score",
        "conversation__team_id",
        "conversation__operator_id",
        "conversation__case__topic_id",
        "conversation__chat_topic__topic_id",
    )
    for at, score, team, op, case_topic, chat_topic in chat.iterator(chunk_size=5000):
        b.add(at, team, op, "chat", case_topic or chat_topic, **_csi(score))


def _csi(score: int) -> dict[str, int]:
    metrics.check_csi(score)
    return {"csi_count": 1, "csi_sum": score, "csi_good": int(metrics.csi_is_good(score))}


def _nps(b: Buckets, since: datetime, until: datetime) -> None:
    rows = NpsSurvey.objects.filter(
        answered_at__gte=since, answered_at__lt=until, score__isnull=False
    ).values_list(
        "answered_at", "score", "team_id", "operator_id", "case_channel", "channel", "topic_id"
    )
    for at, score, team, op, case_channel, channel, topic in rows.iterator(chunk_size=5000):
        kind = metrics.nps_class(score)
        b.add(
            at,
            team,
            op,
            case_channel or channel,
            topic,
            nps_count=1,
            nps_promoters=int(kind == "promoter"),
            nps_detractors=int(kind == "detractor"),
        )


def fcr_annotated(cases, repeat_days: int):
    """Annotate cases with what decides FCR (see metrics.is_first_contact_resolution):
    inbound contacts, a reopening, a repeat contact or a repeat case within N days."""
    window_end = F("resolved_at") + timedelta(days=repeat_days)
    repeat_case = Case.objects.filter(
        client_id=OuterRef("client_id"),
        created_at__gt=OuterRef("resolved_at"),
        created_at__lte=OuterRef("fcr_end"),
    ).exclude(pk=OuterRef("pk"))
    repeat_same_topic = repeat_case.filter(topic_id=OuterRef("topic_id"))
    repeat_no_topic = repeat_case.filter(topic__isnull=True)
    repeat_contact = Interaction.objects.filter(
        case_id=OuterRef("pk"),
        direction=Direction.INBOUND,
        started_at__gt=OuterRef("resolved_at"),
        started_at__lte=OuterRef("fcr_end"),
    )
    reopened = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=EventKind.REOPENED)
    return cases.annotate(
        fcr_end=window_end,
        inbound=Count("interactions", filter=Q(interactions__direction=Direction.INBOUND)),
        was_reopened=Exists(reopened),
        repeat_contact=Exists(repeat_contact),
        repeat_same_topic=Exists(repeat_same_topic),
        repeat_no_topic=Exists(repeat_no_topic),
    )


def case_is_fcr(row: dict) -> bool:
    repeat = row["repeat_no_topic"] if row["topic_id"] is None else row["repeat_same_topic"]
    return (
        row["inbound"] <= 1
        and not row["was_reopened"]
        and not row["repeat_contact"]
        and (not repeat)
    )


def _resolutions(b: Buckets, since: datetime, until: datetime) -> None:
    cases = fcr_annotated(
        Case.objects.filter(resolved_at__gte=since, resolved_at__lt=until),
        settings.OTKLIK_FCR_REPEAT_DAYS,
    ).values(
        "resolved_at",
        "team_id",
        "owner_id",
        "channel",
        "topic_id",
        "inbound",
        "was_reopened",
        "repeat_contact",
        "repeat_same_topic",
        "repeat_no_topic",
    )
    for row in cases.iterator(chunk_size=2000):
        b.add(
            row["resolved_at"],
            row["team_id"],
            row["owner_id"],
            row["channel"],
            row["topic_id"],
            resolved=1,
            fcr=int(case_is_fcr(row)),
        )


def _portal_answers(b: Buckets, since: datetime, until: datetime) -> None:
    rows = PortalAnswer.objects.filter(posted_at__gte=since, posted_at__lt=until).values_list(
        "posted_at", "on_time", "case__team_id", "posted_by_id", "case__channel", "case__topic_id"
    )
    for at, on_time, team, op, channel, topic in rows.iterator(chunk_size=5000):
        b.add(at, team, op, channel, topic, portal_answers=1, portal_on_time=int(on_time))


def compute(since: datetime, until: datetime, *, now: datetime) -> Buckets:
    """All counters of the hours in [since, until), from the raw rows as they are now."""
    b = Buckets()
    _interactions(b, since, until)
    _chats(b, since, until, now)
    _first_replies(b, since, until, now)
    _ratings(b, since, until)
    _nps(b, since, until)
    _resolutions(b, since, until)
    _portal_answers(b, since, until)
    return b
