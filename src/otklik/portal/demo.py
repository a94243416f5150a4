"""Portal scenes for the demo: story 001's borrower with an answer waiting in the cabinet.

Call `load_demo_portal()` after the demo's story clients exist (the demo loader does).
It is idempotent: a second call finds its case and does nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.cases.models import Case, MessageVisibility, Topic
from otklik.cases.services import case_open, message_add
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.portal.models import PortalAnswer
from otklik.portal.services import portal_answer_post, portal_answer_promise

# Story 001's borrower (see otklik.demo.services.story_001_court).
BORROWER_PHONE = "+79125740361"
BORROWER_EMAIL = "d.sokolov88@example.com"
ANSWERED_SUBJECT = "Можно ли погасить долг частями до решения суда"


@dataclass
class DemoPortal:
    """How to log in to the portal as the demo borrower."""

    created: bool
    phone: str = BORROWER_PHONE
    email: str = BORROWER_EMAIL
    case_id: int | None = None


def _borrower() -> Client | None:
    contact = (
        ContactPoint.objects.filter(kind=ChannelKind.PHONE, value=BORROWER_PHONE)
        .select_related("client")
        .first()
    )
    return contact.client if contact else None


def _operator_for(client: Client) -> User | None:
    owner_id = (
        Case.objects.filter(client=client, owner__isnull=False)
        .order_by("-created_at")
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner_id:
        return User.objects.get(pk=owner_id)
    return User.objects.filter(role=Role.OPERATOR, is_active=True).order_by("pk").first()


@transaction.atomic
def load_demo_portal(*, now: datetime | None = None) -> DemoPortal:
    """An answered portal case for the borrower: promised, answered on time, not yet read.

    The client sees it with an unread badge after logging in with the phone or e-mail
    above; the answer can be rated. Nothing happens if the borrower is not loaded.
    """
    client = _borrower()
    if client is None:
        return DemoPortal(created=False)
    existing = Case.objects.filter(client=client, subject=ANSWERED_SUBJECT).first()
    if existing is not None:
        return DemoPortal(created=False, case_id=existing.pk)
    operator = _operator_for(client)
    if operator is None:
        return DemoPortal(created=False)
    now = now or timezone.now()
    asked = now - timedelta(days=1, hours=6)
    case = case_open(
        actor=operator,
        client=client,
        subject=ANSWERED_SUBJECT,
        channel=ChannelKind.PHONE,
        topic=Topic.objects.filter(name="Судебное взыскание").first(),
        now=asked,
    )
    message_add(
        actor=operator,
        case=case,
        body=(
            "Клиент спрашивает, можно ли погасить долг по делу 2-3187/2025 частями до "
            "решения суда. Нужен ответ юристов; клиенту обещан ответ в ЛК в течение суток."
        ),
        visibility=MessageVisibility.INTERNAL,
        now=asked + timedelta(minutes=3),
    )
    portal_answer_promise(actor=operator, case=case, now=asked + timedelta(minutes=4))
    answer = portal_answer_post(
        actor=operator,
        case=case,
        body=(
            "Дмитрий Павлович, здравствуйте! Юридический отдел подтвердил: погасить долг "
            "частями до решения суда можно. Для этого нужно подписать соглашение о "
            "рассрочке — мы подготовим его в течение двух рабочих дней, после первого "
            "платежа ходатайство об отложении заседания направим сами. Сумма по иску — "
            "38 640 ₽, госпошлина при мировом соглашении не взыскивается."
        ),
        idempotency_key=f"demo-portal-answer-{client.pk}",
        now=asked + timedelta(hours=5, minutes=20),
    )
    assert PortalAnswer.objects.filter(pk=answer.pk).exists()
    return DemoPortal(created=True, case_id=case.pk)
