"""Removing the personal part of records that stay for statistics.

Each function takes ids already known to be past their term and runs inside the caller's
transaction. Files are removed from storage before the rows that point at them, so a run
killed midway never leaves a personal file on disk without its row: the next run finds
the row again and finishes (deleting a missing file is a no-op). Rows keep what the
statistics need (status, topic, channel, team, owner, timestamps, scores) and lose the
client link, the texts and the personal fields.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import translation
from django.utils.translation import gettext

from otklik.actions.models import ClientFlag
from otklik.analytics.models import NpsSurvey
from otklik.cases.models import Case, CaseEvent, EventKind, Interaction, Message
from otklik.chat.models import BotDecision, ChatMessage, ChatRating, Conversation
from otklik.clients.models import Client, ClientSearchTerm, ContactPoint, Product
from otklik.handoffs.models import Handoff, HandoffAttachment, HandoffEvent
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox, OutboxStatus
from otklik.orders.models import OrderSigningCode
from otklik.portal.models import CsiRating, PortalCaseRead, PortalLoginCode
from otklik.relationship.models import (
    AssignmentChange,
    CallOutcome,
    HealthResult,
    HealthSummary,
    ManagerTask,
    MetricValue,
    OfferOutcome,
    OnboardingStep,
    RelatedClient,
    Relationship,
)
from otklik.retention.models import AnonymisedClient
from otklik.telephony.models import Call, Callback, CallEvent

FINAL_OUTBOX = (OutboxStatus.SENT, OutboxStatus.DEAD)
# Status history is what the metrics are computed from and holds no personal data.
KEPT_EVENT_VALUES = (EventKind.STATUS_CHANGED, EventKind.REOPENED)


def anonymous_name() -> str:
    """The name an anonymised client record shows, in the installation's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Anonymised client")


def placeholder_id() -> int | None:
    return (
        AnonymisedClient.objects.filter(is_placeholder=True)
        .values_list("client_id", flat=True)
        .first()
    )


def placeholder_get_or_create(now: datetime) -> int:
    """The one client record anonymised cases and calls are re-linked to (made once)."""
    existing = placeholder_id()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            client = Client.objects.create(last_name=anonymous_name(), first_name="")
            AnonymisedClient.objects.create(client=client, anonymised_at=now, is_placeholder=True)
            return client.pk
    except IntegrityError:  # another worker made it at the same moment
        return placeholder_id()


def _remove_files(files: Iterable[FieldFile]) -> int:
    removed = 0
    for file in files:
        if file and file.name:
            file.storage.delete(file.name)
            removed += 1
    return removed


def chat_files_remove(message_ids: list[int]) -> int:
    """Delete chat attachments from storage and forget them on their messages."""
    messages = ChatMessage.objects.filter(pk__in=message_ids).exclude(attachment="")
    removed = _remove_files(m.attachment for m in messages)
    messages.update(attachment="", attachment_name="", attachment_type="", attachment_size=0)
    return removed


def handoff_files_remove(attachment_ids: list[int]) -> int:
    """Delete handoff attachments from storage, then their rows."""
    attachments = HandoffAttachment.objects.filter(pk__in=attachment_ids)
    removed = _remove_files(a.file for a in attachments)
    attachments.delete()
    return removed


def chats_anonymise(conversation_ids: list[int]) -> int:
    """A chat keeps its timings, topic, team, operator and score; the transcript goes."""
    message_ids = list(
        ChatMessage.objects.filter(conversation_id__in=conversation_ids)
        .exclude(attachment="")
        .values_list("pk", flat=True)
    )
    removed = chat_files_remove(message_ids)
    ChatMessage.objects.filter(conversation_id__in=conversation_ids).delete()
    BotDecision.objects.filter(conversation_id__in=conversation_ids).update(query="")
    ChatRating.objects.filter(conversation_id__in=conversation_ids).update(comment="")
    Conversation.objects.filter(pk__in=conversation_ids).update(client=None)
    return removed


def interactions_anonymise(interaction_ids: list[int], placeholder: int) -> None:
    Interaction.objects.filter(pk__in=interaction_ids).update(
        client_id=placeholder, summary="", external_ref=""
    )


def calls_anonymise(call_ids: list[int]) -> None:
    """A telephone call keeps its timings, line, operator and case; number, recording,
    client, the PBX's event payloads and its callback's number go."""
    CallEvent.objects.filter(call_id__in=call_ids).update(payload={})
    Callback.objects.filter(call_id__in=call_ids).update(number="", client=None)
    Call.objects.filter(pk__in=call_ids).update(number="", recording_url="", client=None)


def surveys_anonymise(survey_ids: list[int], placeholder: int) -> None:
    """An NPS answer keeps its score, kind, channel and team for the rollups."""
    NpsSurvey.objects.filter(pk__in=survey_ids).update(client_id=placeholder, comment="")


def cases_anonymise(case_ids: list[int], placeholder: int) -> int:
    """Everything attached to the cases loses its texts; the cases move to the placeholder.

    Orders and action runs are records of operations on the client's accounts with their
    own statutory terms; they are left as they are (see docs/retention.md).
    """
    attachment_ids = list(
        HandoffAttachment.objects.filter(handoff__case_id__in=case_ids).values_list("pk", flat=True)
    )
    removed = handoff_files_remove(attachment_ids)
    chat_ids = list(Conversation.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
    removed += chats_anonymise(chat_ids)
    handoff_ids = list(Handoff.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
    Handoff.objects.filter(pk__in=handoff_ids).update(question="", answer="")
    HandoffEvent.objects.filter(handoff_id__in=handoff_ids).update(text="")
    Message.objects.filter(case_id__in=case_ids).update(body="")
    CaseEvent.objects.filter(case_id__in=case_ids).exclude(kind__in=KEPT_EVENT_VALUES).update(
        old_value="", new_value=""
    )
    Interaction.objects.filter(case_id__in=case_ids).update(
        client_id=placeholder, summary="", external_ref=""
    )
    calls_anonymise(list(Call.objects.filter(case_id__in=case_ids).values_list("pk", flat=True)))
    NpsSurvey.objects.filter(case_id__in=case_ids).update(client_id=placeholder, comment="")
    CsiRating.objects.filter(case_id__in=case_ids).update(client_id=placeholder, comment="")
    PortalCaseRead.objects.filter(case_id__in=case_ids).delete()
    LiveEvent.objects.filter(case_id__in=case_ids).delete()
    Outbox.objects.filter(case_id__in=case_ids, status__in=FINAL_OUTBOX).delete()
    Case.objects.filter(pk__in=case_ids).update(client_id=placeholder, subject="")
    return removed


def _relationship_forget(client_ids: list[int], placeholder: int) -> None:
    """The manager's desk: the profile, family links, figures, health, tasks and checklist
    go with the client; offer and call outcomes move to the placeholder (they are the
    manager's figures); the assignment history stays on the anonymised id, without reasons.
    """
    for model in (
        Relationship,
        HealthResult,
        HealthSummary,
        MetricValue,
        OnboardingStep,
        ManagerTask,
    ):
        model.objects.filter(client_id__in=client_ids).delete()
    RelatedClient.objects.filter(client_id__in=client_ids).delete()
    RelatedClient.objects.filter(related_id__in=client_ids).delete()
    OfferOutcome.objects.filter(client_id__in=client_ids).update(client_id=placeholder)
    CallOutcome.objects.filter(client_id__in=client_ids).update(
        client_id=placeholder, reason_keys=[]
    )
    AssignmentChange.objects.filter(client_id__in=client_ids).update(reason="")


def clients_anonymise(client_ids: list[int], placeholder: int, now: datetime) -> None:
    """Strip a client record nothing live refers to; the row stays for the audit log's ids."""
    for model in (ContactPoint, ClientSearchTerm, PortalLoginCode, PortalCaseRead, ClientFlag):
        model.objects.filter(client_id__in=client_ids).delete()
    OrderSigningCode.objects.filter(client_id__in=client_ids).delete()
    Product.objects.filter(client_id__in=client_ids).delete()
    CsiRating.objects.filter(client_id__in=client_ids).update(client_id=placeholder, comment="")
    NpsSurvey.objects.filter(client_id__in=client_ids).update(client_id=placeholder, comment="")
    _relationship_forget(client_ids, placeholder)
    Outbox.objects.filter(client_id__in=client_ids, status__in=FINAL_OUTBOX).delete()
    Outbox.objects.filter(client_id__in=client_ids).update(client=None)
    Client.objects.filter(pk__in=client_ids).update(
        last_name=anonymous_name(),
        first_name="",
        patronymic="",
        birth_date=None,
        address_as="",
        preferences="",
        personal_manager=None,
    )
    AnonymisedClient.objects.bulk_create(
        [AnonymisedClient(client_id=pk, anonymised_at=now) for pk in client_ids],
        ignore_conflicts=True,
    )
