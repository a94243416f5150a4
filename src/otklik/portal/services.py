"""Writes of the client portal (ЛК) and of the "answer in the personal cabinet" standard.

Login codes live in `otklik.portal.login_codes`; their public names are re-exported here.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otklik.accounts.models import Team, User
from otklik.cases import services as case_services
from otklik.cases.lifecycle import TRANSITIONS
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Message,
    MessageVisibility,
    Topic,
)
from otklik.cases.selectors import can_edit_case
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.common.errors import ServiceError
from otklik.common.links import absolute_reverse
from otklik.common.redaction import redact
from otklik.portal.login_codes import (
    CODE_MAX_ATTEMPTS as CODE_MAX_ATTEMPTS,
)
from otklik.portal.login_codes import (
    CODE_TTL as CODE_TTL,
)
from otklik.portal.login_codes import (
    CodeChallenge as CodeChallenge,
)
from otklik.portal.login_codes import (
    Throttled as Throttled,
)
from otklik.portal.login_codes import (
    identifier_normalize as identifier_normalize,
)
from otklik.portal.login_codes import (
    portal_code_reissue as portal_code_reissue,
)
from otklik.portal.login_codes import (
    portal_code_request as portal_code_request,
)
from otklik.portal.login_codes import (
    portal_code_verify as portal_code_verify,
)
from otklik.portal.login_codes import (
    show_codes_enabled as show_codes_enabled,
)
from otklik.portal.models import CsiRating, PortalAnswer, PortalCaseRead

log = logging.getLogger(__name__)

RATING_EDIT_PERIOD = timedelta(days=7)
MAX_COMMENT = 2000
PORTAL_ANSWER = "portal_answer"  # the SLA deadline kind (otklik.sla)
OPEN_HANDOFF_STATUSES = ("open", "in_work", "question")

# --- the client's actions ------------------------------------------------------------------


def _own(client: Client, case: Case) -> None:
    if case.client_id != client.pk:  # the selectors already 404; this is a second lock
        raise ServiceError({"case": _("This request is not yours.")})


def portal_case_mark_read(*, client: Client, case: Case, now: datetime | None = None) -> None:
    """Mark every public message of the case read by the client (the unread badge goes)."""
    _own(client, case)
    last = (
        case.messages.filter(visibility=MessageVisibility.PUBLIC).aggregate(m=Max("id"))["m"] or 0
    )
    now = now or timezone.now()
    mark, created = PortalCaseRead.objects.get_or_create(
        client=client, case=case, defaults={"last_read_message_id": last, "read_at": now}
    )
    if not created and mark.last_read_message_id < last:
        PortalCaseRead.objects.filter(pk=mark.pk, last_read_message_id__lt=last).update(
            last_read_message_id=last, read_at=now
        )


def _tell_staff(case: Case, text: str, kind: str) -> None:
    from otklik.live.services import publish

    if case.owner_id:
        publish(user_ids=[case.owner_id], kind=kind, text=text, case=case)


@transaction.atomic
def portal_reply(*, client: Client, case: Case, body: str, now: datetime | None = None) -> Message:
    """The client writes on their case: a finished case reopens, an open one continues."""
    _own(client, case)
    now = now or timezone.now()
    message = case_services.message_add(
        actor=None,
        case=case,
        body=body,
        visibility=MessageVisibility.PUBLIC,
        author_kind=AuthorKind.CLIENT,
        now=now,
    )
    portal_case_mark_read(client=client, case=case, now=now)
    _tell_staff(
        case,
        _("%(client)s replied in the personal cabinet on %(ref)s")
        % {"client": client.full_name, "ref": case.reference},
        "portal_reply",
    )
    return message


def _portal_team(topic: Topic | None) -> Team | None:
    if topic is not None and topic.default_team_id:
        return None  # case_open takes the topic's team
    name = getattr(settings, "OTKLIK_PORTAL_TEAM", "")
    return Team.objects.filter(name=name).first() if name else None


@transaction.atomic
def portal_request_open(
    *,
    client: Client,
    subject: str,
    body: str,
    topic: Topic | None = None,
    now: datetime | None = None,
) -> Case:
    """The client opens a new request in the portal: a case on the portal channel."""
    now = now or timezone.now()
    if not (body or "").strip():
        raise ServiceError({"body": _("Describe your question.")})
    if topic is not None and not topic.is_active:
        raise ServiceError({"topic": _("Choose a topic from the list.")})
    case = case_services.case_open(
        actor=None,
        client=client,
        subject=subject,
        channel=ChannelKind.PORTAL,
        topic=topic,
        team=_portal_team(topic),
        now=now,
    )
    case_services.message_add(
        actor=None,
        case=case,
        body=body,
        visibility=MessageVisibility.PUBLIC,
        author_kind=AuthorKind.CLIENT,
        now=now,
    )
    portal_case_mark_read(client=client, case=case, now=now)
    return case


def _score(raw: object) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ServiceError({"score": _("Choose a score from 1 to 5.")})
    return int(text)


@transaction.atomic
def portal_rating_set(
    *,
    client: Client,
    case: Case,
    message: Message,
    score: object,
    comment: str = "",
    now: datetime | None = None,
) -> CsiRating:
    """Rate an answer 1–5 with an optional comment (the CSI record).

    One rating per answer; the client may change it within `RATING_EDIT_PERIOD`.
    """
    _own(client, case)
    if (
        message.case_id != case.pk
        or message.visibility != MessageVisibility.PUBLIC
        or message.author_kind != AuthorKind.STAFF
    ):
        raise ServiceError({"message": _("Only our answers can be rated.")})
    value = _score(score)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError({"comment": _("The comment is longer than 2000 characters.")})
    comment = redact(comment)
    now = now or timezone.now()
    rating = CsiRating.objects.select_for_update().filter(message=message).first()
    if rating is None:
        return CsiRating.objects.create(
            case=case,
            message=message,
            client=client,
            score=value,
            comment=comment,
            created_at=now,
            updated_at=now,
        )
    if now - rating.created_at > RATING_EDIT_PERIOD:
        raise ServiceError(
            {"score": _("A rating can be changed within 7 days; this one can no longer be.")}
        )
    rating.score, rating.comment, rating.updated_at = value, comment, now
    rating.save(update_fields=["score", "comment", "updated_at"])
    return rating


# --- the portal answer standard (workspace side) --------------------------------------------


def _require_editor(actor: User, case: Case) -> None:
    if not can_edit_case(user=actor, case=case):
        raise ServiceError(
            {"case": _("Department specialists answer through the handoff, not on the case.")}
        )


def _event(case: Case, actor: User | None, field: str, new: str, at: datetime) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.FIELD_CHANGED,
        field=field,
        new_value=new[:300],
        created_at=at,
    )


def _move(actor: User, case: Case, to_status: str, now: datetime) -> None:
    if case.status != to_status and to_status in TRANSITIONS[case.status]:
        case_services.case_transition(actor=actor, case=case, to_status=to_status, now=now)


@transaction.atomic
def portal_answer_promise(*, actor: User, case: Case, now: datetime | None = None):
    """ "We will answer in your personal cabinet within a day" (story 001).

    Starts the portal answer deadline (24 h by default, per topic through SLA policies),
    records it on the case and moves the case to "waiting for department" when a question
    to a department is open, else to "in progress". A second promise returns the running
    deadline.
    """
    from otklik.handoffs.models import Handoff
    from otklik.sla.selectors import deadline_open_for
    from otklik.sla.services import deadline_start

    _require_editor(actor, case)
    if not case.is_open:
        raise ServiceError(
            {"case": _("The case is finished; reopen it before promising an answer.")}
        )
    running = deadline_open_for(case=case, kind=PORTAL_ANSWER)
    if running is not None:
        return running
    now = now or timezone.now()
    deadline = deadline_start(case=case, kind=PORTAL_ANSWER, start=now)
    due_text = date_format(timezone.localtime(deadline.due_at), "d.m.Y H:i")
    _event(case, actor, "portal_answer_due", due_text, now)
    waiting = Handoff.objects.filter(case=case, status__in=OPEN_HANDOFF_STATUSES).exists()
    _move(actor, case, CaseStatus.WAITING_DEPARTMENT if waiting else CaseStatus.IN_PROGRESS, now)
    return deadline


def _client_address(client: Client, kind: str) -> str:
    contact = (
        ContactPoint.objects.filter(client=client, kind=kind)
        .exclude(reachability="unreachable")
        .order_by("-is_primary", "id")
        .first()
    )
    return contact.value if contact else ""


def _notify_answer(answer: PortalAnswer, case: Case) -> None:
    from otklik.notifications.services import notify

    client = case.client
    link = absolute_reverse("portal:case_detail", args=[case.pk])
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("The answer on your request %(ref)s is in the personal cabinet") % {
            "ref": case.reference
        }
        email_body = _(
            "%(name)s, hello!\n\nWe have answered your request %(ref)s «%(subject)s». "
            "The answer is waiting for you in the personal cabinet:\n%(link)s\n\n"
            "You do not need to call us back."
        ) % {
            "name": client.greeting_name,
            "ref": case.reference,
            "subject": case.subject,
            "link": link,
        }
        short = _("The answer on request %(ref)s is in your personal cabinet: %(link)s") % {
            "ref": case.reference,
            "link": link,
        }
    payload = {"kind": "portal_answer", "case_id": case.pk, "message_id": answer.message_id}
    for channel, kind, body in (
        ("email", ChannelKind.EMAIL, email_body),
        ("sms", ChannelKind.PHONE, short),
    ):
        address = _client_address(client, kind)
        if address:
            notify(
                key=f"portal-answer:{answer.pk}:{channel}",
                channel=channel,
                address=address,
                subject=subject if channel == "email" else "",
                body=body,
                client=client,
                case=case,
                payload=payload,
            )


@transaction.atomic
def portal_answer_post(
    *,
    actor: User,
    case: Case,
    body: str,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> PortalAnswer:
    """Post the answer to the personal cabinet and tell the client (e-mail and SMS).

    A public reply, marked as the portal answer; it meets the portal answer deadline (a
    reply without a promise counts as promised and met at once, so every portal answer is
    counted). The case becomes "answered". The same `idempotency_key` posts only once.
    """
    from otklik.sla.models import Deadline
    from otklik.sla.selectors import deadline_open_for
    from otklik.sla.services import deadline_meet, deadline_start

    key = (idempotency_key or "").strip()[:100]
    if key:
        Case.objects.select_for_update().filter(pk=case.pk).first()  # serialise double submits
        existing = PortalAnswer.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.case_id != case.pk:
                raise ServiceError({"idempotency_key": _("This key was used on another case.")})
            return existing
    _require_editor(actor, case)
    now = now or timezone.now()
    deadline = deadline_open_for(case=case, kind=PORTAL_ANSWER)
    message = case_services.message_add(
        actor=actor, case=case, body=body, visibility=MessageVisibility.PUBLIC, now=now
    )
    if deadline is None:
        deadline = deadline_start(case=case, kind=PORTAL_ANSWER, start=now)
    deadline_meet(case=case, kind=PORTAL_ANSWER, at=now)  # no-op if the reply already met it
    deadline = Deadline.objects.get(pk=deadline.pk)
    on_time = bool(deadline.met_on_time) if deadline.met_at else now <= deadline.due_at
    answer = PortalAnswer.objects.create(
        case=case,
        message=message,
        posted_by=actor,
        posted_at=now,
        due_at=deadline.due_at,
        on_time=on_time,
        idempotency_key=key,
    )
    case.refresh_from_db()
    _move(actor, case, CaseStatus.ANSWERED, now)
    _event(case, actor, "portal_answer", _("on time") if on_time else _("late"), now)
    _notify_answer(answer, case)
    return answer
