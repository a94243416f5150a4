"""Writes on handoffs. The full department workflow (SLA, answers, notifications) builds on this."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, User
from otklik.cases.models import Case, CaseEvent, EventKind
from otklik.common.errors import ServiceError
from otklik.handoffs.models import Handoff


@transaction.atomic
def handoff_send(
    *, actor: User, case: Case, department: Department, question: str, now: datetime | None = None
) -> Handoff:
    """Send a question to a department; its specialists can now see the case."""
    question = (question or "").strip()
    if not question:
        raise ServiceError({"question": _("Write the question for the department.")})
    now = now or timezone.now()
    handoff = Handoff.objects.create(
        case=case, department=department, question=question, created_by=actor, created_at=now
    )
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.HANDOFF,
        field="department",
        new_value=department.name,
        created_at=now,
    )
    return handoff
