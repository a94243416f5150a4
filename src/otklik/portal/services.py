"""Writes of the client portal (ЛК) and of the "answer in the personal cabinet" standard.

Login codes: six digits, sent through the notification outbox (SMS to a phone, e-mail to
an address), stored only as an HMAC keyed with SECRET_KEY, good once, for
`CODE_TTL`, for `CODE_MAX_ATTEMPTS` wrong tries. Requests are paced per entered
phone/e-mail and per client (a few at once, then each next one after a doubling delay,
with the time to retry in the message) and counted per IP address; every answer looks
the same whether the phone or e-mail is known or not. The text of the message lives
only encrypted in the outbox until sent (otklik.notifications). Nothing here logs a code.
"""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
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
from otklik.common.phones import phone_digits
from otklik.common.redaction import redact
from otklik.common.throttle import (
    AttemptCounter,
    Pacing,
    keyed_hash,
    one_time_code,
    retry_message,
)
from otklik.portal.models import CsiRating, LoginChannel, PortalAnswer, PortalCaseRead
from otklik.portal.models import PortalLoginCode as Code

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
THROTTLE_WINDOW_SECONDS = 15 * 60
# Pacing of code requests per phone/e-mail and per client: CODE_REQUESTS_FREE at once,
# then 30 s, 1, 2, 4, 8 min... (at most 15 min) between requests; forgotten after an hour.
CODE_REQUESTS_FREE = 3
CODE_PACING_BASE_SECONDS = 30
CODE_PACING_MAX_SECONDS = 15 * 60
CODE_PACING_RESET_SECONDS = 60 * 60
CODE_REQUESTS_PER_IP = 20
WRONG_CODES_PER_IP = 30
RATING_EDIT_PERIOD = timedelta(days=7)
MAX_COMMENT = 2000
_attempts = AttemptCounter(
    prefix="portal:throttle", namespace="otklik-portal", window_seconds=THROTTLE_WINDOW_SECONDS
)
_pacing = Pacing(
    prefix="portal:pacing",
    namespace="otklik-portal",
    free=CODE_REQUESTS_FREE,
    base_seconds=CODE_PACING_BASE_SECONDS,
    max_seconds=CODE_PACING_MAX_SECONDS,
    reset_seconds=CODE_PACING_RESET_SECONDS,
)
PORTAL_ANSWER = "portal_answer"  # the SLA deadline kind (otklik.sla)
OPEN_HANDOFF_STATUSES = ("open", "in_work", "question")


class Throttled(ServiceError):
    """Too many requests from this address or for this phone/e-mail; try again later."""

    def __init__(self, message, *, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


# --- login codes ---------------------------------------------------------------------------


def _code_hash(salt: str, code: str) -> str:
    return keyed_hash("otklik-portal", "otp", salt, code)


def identifier_normalize(raw: str) -> tuple[str, str]:
    """An entered phone or e-mail → (contact kind, the value as stored on ContactPoint)."""
    raw = (raw or "").strip()
    if "@" in raw:
        local, _sep, domain = raw.rpartition("@")
        if local and "." in domain and " " not in raw and len(raw) <= 200:
            return ChannelKind.EMAIL, raw.lower()
    else:
        digits = phone_digits(raw)
        if len(digits) == 10:
            return ChannelKind.PHONE, f"+7{digits}"
    raise ServiceError(
        {"identifier": _("Enter a phone number like +7 916 123-45-67 or an e-mail address.")}
    )


def _throttled(retry_at: datetime, now: datetime, field: str = "identifier") -> Throttled:
    return Throttled(
        {field: _("Too many attempts.") + " " + retry_message(retry_at, now=now)},
        retry_at=retry_at,
    )


@dataclass
class CodeChallenge:
    """What the login page keeps between "send me a code" and "here is the code".

    `code_id` is None when nothing was sent (unknown phone or e-mail): the page looks the
    same, and every code entered is refused. `demo_code` is set only in demo mode.
    """

    code_id: int | None
    channel: str
    demo_code: str | None = None


def _client_for(kind: str, value: str) -> Client | None:
    contacts = ContactPoint.objects.filter(kind=kind)
    contacts = (
        contacts.filter(value__iexact=value)
        if kind == ChannelKind.EMAIL
        else contacts.filter(value=value)
    )
    client_ids = set(contacts.values_list("client_id", flat=True)[:2])
    if len(client_ids) != 1:  # unknown, or shared by two clients: we cannot tell who it is
        return None
    return Client.objects.filter(pk=client_ids.pop()).first()


def show_codes_enabled() -> bool:
    """Demo mode: show the code on the page. Only honoured when DEBUG is on."""
    return bool(settings.DEBUG and getattr(settings, "OTKLIK_PORTAL_SHOW_CODES", False))


def portal_code_request(*, identifier: str, ip: str, now: datetime | None = None) -> CodeChallenge:
    """Send a one-time login code to a client's phone (SMS) or e-mail.

    Raises ServiceError for a malformed entry and Throttled when this phone/e-mail or this
    IP address asked too often. An unknown phone/e-mail gets the same answer as a known one.
    """
    kind, value = identifier_normalize(identifier)
    channel = LoginChannel.SMS if kind == ChannelKind.PHONE else LoginChannel.EMAIL
    now = now or timezone.now()
    by_ip = _attempts.check("request-ip", ip or "-", CODE_REQUESTS_PER_IP, now=now)
    if not by_ip.allowed:
        log.info("portal code request throttled (ip)")
        raise _throttled(by_ip.retry_at, now)
    by_identifier = _pacing.check("request-id", value, now=now)
    if not by_identifier.allowed:
        log.info("portal code request throttled (identifier)")
        raise _throttled(by_identifier.retry_at, now)
    client = _client_for(kind, value)
    if client is None:
        log.info("portal code request for an unknown %s", kind)
        return CodeChallenge(code_id=None, channel=channel)
    if not _pacing.check("request-client", str(client.pk), now=now).allowed:
        # Same page as for a sent code: the throttle must not tell that the client exists.
        log.info("portal code request throttled (client %s)", client.pk)
        return CodeChallenge(code_id=None, channel=channel)
    code_row, code = _code_issue(client=client, channel=channel, address=value, now=now)
    return CodeChallenge(
        code_id=code_row.pk, channel=channel, demo_code=code if show_codes_enabled() else None
    )


@transaction.atomic
def _code_issue(
    *, client: Client, channel: str, address: str, now: datetime | None
) -> tuple[Code, str]:
    now = now or timezone.now()
    # A new code retires the older ones: only the latest message the client got works.
    Code.objects.filter(client=client, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = one_time_code()
    salt = secrets.token_hex(16)
    row = Code.objects.create(
        client=client,
        channel=channel,
        code_hash=_code_hash(salt, code),
        salt=salt,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    from otklik.notifications.services import notify

    minutes = int(CODE_TTL.total_seconds() // 60)
    with translation.override(settings.LANGUAGE_CODE):
        body = _(
            "Your code to log in to the personal cabinet: %(code)s. It is valid for "
            "%(minutes)d minutes. Do not tell it to anyone, not even our staff."
        ) % {"code": code, "minutes": minutes}
        subject = _("Code to log in to the personal cabinet")
    notify(
        key=f"portal-login-code:{row.pk}",
        channel=channel,
        address=address,
        subject=subject if channel == LoginChannel.EMAIL else "",
        body=body,
        client=client,
        payload={"kind": "portal_login_code", "secret": True},
        secret=code,
        secret_ttl=CODE_TTL,
    )
    log.info("portal login code %s sent to client %s by %s", row.pk, client.pk, channel)
    return row, code


def portal_code_reissue(*, identifier: str, now: datetime | None = None) -> tuple[Code, str]:
    """A fresh code for the client's waiting login challenge, returned, not sent (demo aid).

    Codes are stored only hashed, so nobody can read the one that was sent; whoever has a
    shell on the server (`manage.py portal_login_code`) may instead replace the code of
    the latest unused one: the login page the client already has open accepts the new
    code, the old one stops working. Raises ServiceError when no code is waiting.
    """
    kind, value = identifier_normalize(identifier)
    now = now or timezone.now()
    client = _client_for(kind, value)
    row = (
        Code.objects.filter(client=client, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
        if client is not None
        else None
    )
    if row is None:
        raise ServiceError(
            {
                "identifier": _(
                    "No login code is waiting for this client: ask for one on the portal's "
                    "login page first."
                )
            }
        )
    code, salt = one_time_code(), secrets.token_hex(16)
    Code.objects.filter(pk=row.pk).update(
        code_hash=_code_hash(salt, code), salt=salt, attempts=0, expires_at=now + CODE_TTL
    )
    log.info("portal login code %s re-issued from the command line", row.pk)
    row.refresh_from_db()
    return row, code


def _code_refused() -> ServiceError:
    return ServiceError(
        {"code": _("The code is wrong or no longer valid. Check it or ask for a new one.")}
    )


def portal_code_verify(
    *, code_id: int | None, code: str, ip: str, now: datetime | None = None
) -> Client:
    """Check a login code; return the client on success. Every failure looks the same."""
    now = now or timezone.now()
    if _attempts.peek("wrong-code-ip", ip or "-", now=now) >= WRONG_CODES_PER_IP:
        raise _throttled(_attempts.window_end(now=now), now, field="code")
    code = "".join((code or "").split())
    row = Code.objects.filter(pk=code_id).select_related("client").first() if code_id else None
    usable = (
        row is not None
        and row.used_at is None
        and row.expires_at > now
        and row.attempts < CODE_MAX_ATTEMPTS
    )
    # Compare even when the row is unusable, so timing does not tell the cases apart.
    expected = row.code_hash if row is not None else _code_hash("none", "none")
    matches = hmac.compare_digest(expected, _code_hash(row.salt if row else "none", code))
    if usable and matches:
        claimed = Code.objects.filter(
            pk=row.pk, used_at__isnull=True, expires_at__gt=now, attempts__lt=CODE_MAX_ATTEMPTS
        ).update(used_at=now)
        if claimed == 1:
            log.info("portal login of client %s with code %s", row.client_id, row.pk)
            return row.client
    if row is not None and row.used_at is None:
        Code.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    _attempts.hit("wrong-code-ip", ip or "-", now=now)
    log.info("portal login code refused (code %s)", code_id or "-")
    raise _code_refused()


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
