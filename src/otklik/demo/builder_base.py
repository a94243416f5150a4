"""What every demo scene is built with: relative times, topics, card numbers, cases."""

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from otklik.accounts.models import User
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseStatus,
    MessageVisibility,
    Priority,
)
from otklik.cases.services import (
    case_transition,
    interaction_register,
    message_add,
)
from otklik.clients.models import (
    ChannelKind,
    Client,
)
from otklik.common.luhn import luhn_complete
from otklik.demo.reference import (
    Reference,
)


def _aware(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


class DemoBuilderBase:
    """Builds the story scenes one by one; `ago()` keeps every timestamp relative to now."""

    def __init__(self, *, ref: Reference, staff: dict[str, User], now: datetime, seed: int):
        self.ref = ref
        self.staff = staff
        self.now = now
        self.rng = random.Random(seed)
        self._pan_seq = 0

    # -- helpers ------------------------------------------------------------------

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def topic(self, name: str):
        return self.ref.topics[name]

    def pan(self, prefix: str) -> str:
        self._pan_seq += 1
        body = f"{prefix}{self.rng.randrange(10**8):08d}{self._pan_seq % 10}"
        return luhn_complete(body[:15])

    def closed_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        channel: str,
        at: datetime,
        note: str,
        reply: str,
        client_text: str = "",
        close: bool = True,
    ) -> Case:
        """An earlier case with its contact, a note, the answer, resolved (and closed)."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            summary=note,
            now=at,
        )
        case = interaction.case
        if client_text:
            message_add(
                actor=None,
                case=case,
                body=client_text,
                visibility=MessageVisibility.PUBLIC,
                author_kind=AuthorKind.CLIENT,
                interaction=interaction,
                now=at + timedelta(minutes=1),
            )
        message_add(
            actor=actor,
            case=case,
            body=note,
            visibility=MessageVisibility.INTERNAL,
            now=at + timedelta(minutes=3),
        )
        message_add(
            actor=actor,
            case=case,
            body=reply,
            visibility=MessageVisibility.PUBLIC,
            now=at + timedelta(minutes=9),
        )
        case_transition(
            actor=actor, case=case, to_status=CaseStatus.RESOLVED, now=at + timedelta(minutes=10)
        )
        if close:
            case_transition(
                actor=actor, case=case, to_status=CaseStatus.CLOSED, now=at + timedelta(days=3)
            )
        return case

    def phone_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        at: datetime,
        summary: str,
        note: str,
        priority: int = Priority.NORMAL,
        channel: str = ChannelKind.PHONE,
    ) -> Case:
        """A call just taken: the contact, the operator's note; the case is in progress."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            priority=priority,
            summary=summary,
            now=at,
            external_ref=f"call-{at:%Y%m%d%H%M}-{client.pk}",
        )
        message_add(
            actor=actor,
            case=interaction.case,
            body=note,
            visibility=MessageVisibility.INTERNAL,
            interaction=interaction,
            now=at + timedelta(minutes=4),
        )
        return interaction.case

    def written_case(
        self,
        *,
        actor: User,
        client: Client,
        subject: str,
        topic: str,
        at: datetime,
        text: str,
        channel: str = ChannelKind.CHAT,
        priority: int = Priority.NORMAL,
    ) -> Case:
        """A chat/portal/e-mail request as it arrived: the client's words; status «new»."""
        interaction = interaction_register(
            actor=actor,
            client=client,
            channel=channel,
            new_case_subject=subject,
            topic=self.topic(topic),
            priority=priority,
            summary="",
            now=at,
            external_ref=f"{channel}-{at:%Y%m%d%H%M%S}-{client.pk}",
        )
        message_add(
            actor=None,
            case=interaction.case,
            body=text,
            visibility=MessageVisibility.PUBLIC,
            author_kind=AuthorKind.CLIENT,
            interaction=interaction,
            now=at,
        )
        return interaction.case
