"""Queue rows prepared in Python.

The queue shows 50 rows of ten cells; resolving every label, URL and date inside the
template cost more than the database query (profiled at 1 M cases). Here each label is
translated once per request and each URL built from one reversed pattern.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from otklik.cases.models import Case, CaseStatus, Priority
from otklik.clients.models import ChannelKind


@dataclass(frozen=True)
class QueueRow:
    case_url: str
    client_url: str
    reference: str
    client_name: str
    subject: str
    topic: str
    status: str
    status_label: str
    priority: int
    priority_label: str
    channel_label: str
    owner: str
    created: str
    age: str
    due: str
    overdue: bool


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices}


def queue_rows(cases: list[Case], *, now: datetime) -> list[QueueRow]:
    statuses = _labels(CaseStatus.choices)
    priorities = _labels(Priority.choices)
    channels = _labels(ChannelKind.choices)
    case_url = reverse("workspace:case_detail", args=[0])[:-2] + "{}/"
    client_url = reverse("workspace:client_card", args=[0])[:-2] + "{}/"
    rows = []
    for case in cases:
        local_created = timezone.localtime(case.created_at)
        due = timezone.localtime(case.due_at) if case.due_at else None
        rows.append(
            QueueRow(
                case_url=case_url.format(case.pk),
                client_url=client_url.format(case.client_id),
                reference=case.reference,
                client_name=case.client.full_name,
                subject=case.subject,
                topic=case.topic.name if case.topic_id else "",
                status=case.status,
                status_label=statuses.get(case.status, case.status),
                priority=case.priority,
                priority_label=priorities.get(case.priority, str(case.priority)),
                channel_label=channels.get(case.channel, case.channel),
                owner=case.owner.display_name if case.owner_id else "",
                created=local_created.strftime("%d.%m.%Y %H:%M"),
                age=timesince(case.created_at, now, depth=1),
                due=due.strftime("%d.%m %H:%M") if due else "",
                overdue=bool(case.is_open and case.due_at and case.due_at < now),
            )
        )
    return rows
