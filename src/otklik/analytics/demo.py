"""Demo activity for the analytics dashboard: sixty days of contacts for the five stories'
businesses, so every chart and table shows something to talk about.

What it makes, per team (a root topic groups its stories' topics; the business-line filter
reads each topic's own `business_line`, so the premium team's bank topics count for the
bank): calls and chats
with queue waits (the telecom line is slower to answer), handle and wrap-up times, cases
resolved at once or coming back within days (FCR misses), CSI ratings, NPS answers with
comments, answers in the ЛК on time or late, handoffs to departments, and an open backlog
of different ages. Written as rows (the figures need controlled timestamps in the past),
then the rollups are rebuilt. Idempotent: a second call does nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import Department, Role, User
from otklik.analytics import rollups
from otklik.analytics.models import DashboardScope, NpsSurvey
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    CaseStatus,
    Direction,
    EventKind,
    Interaction,
    Message,
    MessageVisibility,
    Topic,
)
from otklik.clients.models import Client
from otklik.demo.reference import BANK_CHAT, BROKER, MFO, PREMIUM, TELECOM, TOPIC_LINES, TOPICS
from otklik.handoffs.models import Handoff
from otklik.portal.models import CsiRating, PortalAnswer

MARK = "demo-analytics"
DAYS = 60
# Business line (root topic) per team, and how each team works: cases a day, channels,
# median queue wait in seconds, share of first-contact resolutions.
LINES = {
    BROKER: ("Брокер и управляющая компания", 6, ("phone", "portal", "email"), 15, 0.70),
    BANK_CHAT: ("Банк: карты и переводы", 9, ("chat", "phone", "messenger"), 25, 0.78),
    PREMIUM: ("Премиальное обслуживание", 3, ("phone", "messenger"), 8, 0.85),
    MFO: ("Микрофинансы", 5, ("phone", "portal"), 20, 0.60),
    TELECOM: ("Связь", 7, ("phone", "chat"), 45, 0.66),
}
COMMENTS = {
    "promoter": [
        "Быстро разобрались, спасибо!",
        "Ответ в личном кабинете пришёл в тот же день.",
        "Оператор всё объяснил про налоговый вычет.",
    ],
    "passive": ["Нормально, но пришлось ждать на линии.", "Решили, хотя со второго раза."],
    "detractor": [
        "Три раза звонил по одному и тому же вопросу.",
        "Обещали перезвонить и не перезвонили.",
        "Долго ждал ответа в чате.",
    ],
}


def _line_roots() -> dict[str, Topic]:
    """A root topic per team, with the stories' topics placed under it; the root takes
    the business line of the topics under it."""
    roots = {}
    for team_name, (name, *_rest) in LINES.items():
        line = next(TOPIC_LINES[t] for t, owner in TOPICS.items() if owner == team_name)
        roots[team_name], _created = Topic.objects.get_or_create(
            name=name, defaults={"business_line": line}
        )
    for topic_name, team_name in TOPICS.items():
        Topic.objects.filter(name=topic_name, parent__isnull=True).update(parent=roots[team_name])
    return roots


def _demo_clients(rng: random.Random, count: int = 80) -> list[Client]:
    """Clients of their own (the stories' clients keep exactly the cases their stories
    tell); phone numbers from a range the stories do not use."""
    from otklik.clients.services import client_create
    from otklik.demo import names

    people = []
    for n in range(count):
        female = rng.random() < 0.5
        people.append(
            client_create(
                last_name=names.surname_for(rng.choice(names.SURNAMES), female=female),
                first_name=rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES),
                patronymic=rng.choice(names.PATRONYMICS)[1 if female else 0],
                phones=[f"+7999{7000000 + n:07d}"],
            )
        )
    return people


def _operators(team) -> list[User]:
    people = list(User.objects.filter(team=team, is_active=True).exclude(role=Role.SPECIALIST))
    if len(people) < 3:
        for n in range(3 - len(people)):
            user, _created = User.objects.get_or_create(
                username=f"demo-an-{team.pk}-{n}",
                defaults={
                    "first_name": ["Анна", "Олег", "Вера"][n],
                    "team": team,
                    "last_name": ["Соколова", "Петров", "Зайцева"][n],
                    "role": Role.OPERATOR,
                    "is_active": True,
                },
            )
            user.set_unusable_password()
            user.save()
            people.append(user)
    return people


class _Rows:
    """The demo's rows by model, inserted together (a few statements per model instead of
    ~11 000 single inserts: the first `make run` spent most of this loader in them). Rows
    that need their case's or message's id are finished by `later` once those exist."""

    def __init__(self):
        self.cases, self.events, self.interactions, self.messages = [], [], [], []
        self.answers, self.ratings, self.surveys, self.handoffs = [], [], [], []
        self.later = []

    def save(self) -> None:
        Case.objects.bulk_create(self.cases)
        for finish in self.later:
            finish()
        for model, rows in (
            (CaseEvent, self.events),
            (Interaction, self.interactions),
            (Message, self.messages),
            (NpsSurvey, self.surveys),
            (Handoff, self.handoffs),
        ):
            model.objects.bulk_create(rows, batch_size=500)
        PortalAnswer.objects.bulk_create(self.answers, batch_size=500)
        CsiRating.objects.bulk_create(self.ratings, batch_size=500)


@transaction.atomic
def load_demo_analytics(*, now: datetime | None = None, seed: int = 12) -> bool:
    """Load the demo activity once; returns False when it is already there."""
    if Interaction.objects.filter(external_ref__startswith=MARK).exists():
        return False
    from otklik.demo.reference import reference_data_ensure

    ref = reference_data_ensure()
    rng = random.Random(seed)
    clients = _demo_clients(rng)
    now = now or timezone.now()
    _line_roots()
    departments = list(Department.objects.all())
    rows = _Rows()
    for team_name, (_line, per_day, channels, wait, fcr_share) in LINES.items():
        team = ref.teams[team_name]
        people = _operators(team)
        topics = [ref.topics[t] for t, owner in TOPICS.items() if owner == team_name]
        for day in range(DAYS, -1, -1):
            # A mid-period dip makes the comparison with the previous period show something.
            load = per_day + (2 if day < 20 else 0) + rng.randint(-2, 2)
            for _n in range(max(1, load)):
                _one_case(
                    rows,
                    rng,
                    now,
                    day,
                    team,
                    people,
                    topics,
                    channels,
                    wait,
                    fcr_share,
                    clients,
                    departments,
                )
    rows.save()
    supervisor = User.objects.filter(username="supervisor").first()
    if supervisor is not None:
        DashboardScope.objects.update_or_create(user=supervisor, defaults={"sees_all": True})
    rollups.rebuild(since=now - timedelta(days=DAYS + 2), now=now)
    return True


def _one_case(rows, rng, now, day, team, people, topics, channels, wait, fcr_share, clients, depts):
    created = now - timedelta(days=day, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))
    created = min(created, now - timedelta(minutes=5))
    client = rng.choice(clients)
    owner = rng.choice(people)
    channel = rng.choice(channels)
    topic = rng.choice(topics)
    first_time = rng.random() < fcr_share
    still_open = (day <= 2 and rng.random() < 0.5) or rng.random() < 0.04
    resolved = None if still_open else created + timedelta(minutes=rng.randint(10, 60 * 30))
    resolved = resolved if resolved is None or resolved < now else None
    case = Case(
        client=client,
        subject=f"{topic.name}: вопрос клиента",
        topic=topic,
        channel=channel,
        team=team,
        owner=owner,
        created_at=created,
        updated_at=resolved or created,
        due_at=created + timedelta(days=3 if day > 10 else 1),
        status=CaseStatus.RESOLVED if resolved else CaseStatus.IN_PROGRESS,
        is_open=resolved is None,
        resolved_at=resolved,
        priority=2,
    )
    rows.cases.append(case)
    rows.events.append(CaseEvent(case=case, kind=EventKind.CREATED, created_at=created))
    contacts = 1 if first_time else rng.randint(2, 3)
    at = created
    for i in range(contacts):
        queue = int(rng.lognormvariate(0, 0.8) * wait) if channel != "email" else None
        abandoned = queue is not None and queue > 3 * wait and rng.random() < 0.5
        talk = int(rng.lognormvariate(0, 0.5) * (240 if channel == "phone" else 480))
        contact = Interaction(
            client=client,
            case=case,
            channel=channel,
            direction=Direction.INBOUND,
            operator=None if abandoned else owner,
            started_at=at,
            ended_at=None if abandoned else at + timedelta(seconds=talk),
            queue_seconds=queue,
            wrap_up_seconds=None if abandoned else rng.randint(20, 120),
        )
        rows.interactions.append(contact)
        rows.later.append(
            lambda contact=contact, i=i: setattr(contact, "external_ref", f"{MARK}-{case.pk}-{i}")
        )
        at += timedelta(hours=rng.randint(2, 40))
        if at >= now:
            break
    if channel in ("portal", "email") and resolved is not None:
        reply_at = created + timedelta(minutes=rng.randint(20, 60 * 14))
        message = Message(
            case=case,
            author_kind=AuthorKind.STAFF,
            author=owner,
            visibility=MessageVisibility.PUBLIC,
            body="Ответ по вашему обращению",
            created_at=reply_at,
        )
        rows.messages.append(message)
        if channel == "portal":
            rows.answers.append(
                PortalAnswer(
                    case=case,
                    message=message,
                    posted_by=owner,
                    posted_at=reply_at,
                    due_at=created + timedelta(hours=24),
                    on_time=reply_at <= created + timedelta(hours=24),
                )
            )
        if rng.random() < 0.5:
            score = rng.choices(
                [5, 4, 3, 2, 1], weights=[5, 3, 1, 1, 1] if first_time else [2, 2, 2, 2, 2]
            )[0]
            rows.ratings.append(
                CsiRating(
                    case=case,
                    message=message,
                    client=client,
                    score=score,
                    created_at=reply_at + timedelta(hours=1),
                    updated_at=reply_at + timedelta(hours=1),
                )
            )
    elif resolved is not None and rng.random() < 0.45:
        message = Message(
            case=case,
            author_kind=AuthorKind.STAFF,
            author=owner,
            visibility=MessageVisibility.PUBLIC,
            body="Итог обращения",
            created_at=resolved,
        )
        rows.messages.append(message)
        score = rng.choices(
            [5, 4, 3, 2, 1], weights=[6, 3, 1, 1, 1] if first_time else [1, 2, 3, 2, 2]
        )[0]
        rows.ratings.append(
            CsiRating(
                case=case,
                message=message,
                client=client,
                score=score,
                created_at=resolved,
                updated_at=resolved,
            )
        )
    if resolved is not None and rng.random() < 0.2:
        score = rng.choices(
            range(11),
            weights=[1, 1, 1, 1, 2, 2, 3, 6, 8, 12, 14]
            if first_time
            else [4, 3, 3, 3, 3, 3, 4, 4, 3, 2, 2],
        )[0]
        kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        answered = min(resolved + timedelta(hours=rng.randint(1, 48)), now)
        survey = NpsSurvey(
            client=client,
            case=case,
            kind="after_case",
            channel="sms",
            sent_at=resolved,
            answered_at=answered,
            score=score,
            comment=rng.choice(COMMENTS[kind]) if rng.random() < 0.5 else "",
            team_id=team.pk,
            operator_id=owner.pk,
            topic_id=topic.pk,
            case_channel=channel,
        )
        rows.surveys.append(survey)
        rows.later.append(lambda survey=survey: setattr(survey, "token_hash", f"{MARK}-{case.pk}"))
    if depts and rng.random() < 0.15:
        asked = created + timedelta(minutes=30)
        took = timedelta(hours=rng.lognormvariate(1.5, 0.9))
        answered = asked + took if asked + took < now and rng.random() < 0.85 else None
        rows.handoffs.append(
            Handoff(
                case=case,
                department=rng.choice(depts),
                question="Прошу проверить операцию клиента",
                status="answered" if answered else "open",
                created_by=owner,
                answer="Проверено" if answered else "",
                created_at=asked,
                due_at=asked + timedelta(hours=24),
                answered_at=answered,
            )
        )
