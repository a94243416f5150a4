"""Raw rows for the analytics tests, written straight to the tables (fast, and exact:
the tests decide every timestamp)."""

from datetime import timedelta

from otklik.cases.models import Case, CaseEvent, CaseStatus, Direction, EventKind, Interaction
from otklik.portal.models import CsiRating, PortalAnswer


def raw_case(
    *,
    client,
    team=None,
    owner=None,
    topic=None,
    channel="phone",
    created,
    resolved=None,
    subject="Вопрос",
) -> Case:
    return Case.objects.create(
        client=client,
        subject=subject,
        topic=topic,
        channel=channel,
        team=team,
        owner=owner,
        status=CaseStatus.RESOLVED if resolved else CaseStatus.IN_PROGRESS,
        is_open=resolved is None,
        created_at=created,
        updated_at=resolved or created,
        resolved_at=resolved,
    )


def raw_contact(
    case,
    *,
    at,
    operator=None,
    direction=Direction.INBOUND,
    talk=None,
    wrap=None,
    queue=None,
    channel=None,
) -> Interaction:
    return Interaction.objects.create(
        client=case.client,
        case=case,
        channel=channel or case.channel,
        direction=direction,
        operator=operator,
        started_at=at,
        ended_at=at + timedelta(seconds=talk) if talk is not None else None,
        wrap_up_seconds=wrap,
        queue_seconds=queue,
    )


def raw_csi(case, *, score, at) -> CsiRating:
    """A rating of a reply in the portal (a rating belongs to the message it rates)."""
    from otklik.cases.models import AuthorKind, Message, MessageVisibility

    message = Message.objects.create(
        case=case,
        author_kind=AuthorKind.STAFF,
        visibility=MessageVisibility.PUBLIC,
        body="Ответ",
        created_at=at,
    )
    return CsiRating.objects.create(
        case=case, message=message, client=case.client, score=score, created_at=at, updated_at=at
    )


def raw_portal_answer(case, *, at, on_time, author=None) -> PortalAnswer:
    from otklik.cases.models import AuthorKind, Message, MessageVisibility

    message = Message.objects.create(
        case=case,
        author_kind=AuthorKind.STAFF,
        author=author,
        visibility=MessageVisibility.PUBLIC,
        body="Ответ",
        created_at=at,
    )
    return PortalAnswer.objects.create(
        case=case, message=message, posted_by=author, posted_at=at, on_time=on_time
    )


def raw_reopen(case, *, at) -> None:
    CaseEvent.objects.create(case=case, kind=EventKind.REOPENED, created_at=at)
