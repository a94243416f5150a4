"""The survivors of the second mutation run of handoffs/services.py (docs/testing.md):
the times each step stores, files removed when a step fails, a stale case on the page,
and the reachability notice's scope."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.cases.models import Case, CaseEvent, CaseStatus, Message
from otklik.cases.services import case_transition
from otklik.clients.models import ChannelKind, Reachability
from otklik.common.errors import ServiceError
from otklik.handoffs import services
from otklik.handoffs.models import Handoff, HandoffAttachment, HandoffStatus
from otklik.live.models import LiveEvent
from otklik.sla.models import Deadline
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


def _pdf():
    return SimpleUploadedFile("скан.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")


def _send(staff, case, department=None, now=None):
    return services.handoff_send(
        actor=staff.alice,
        case=case,
        department=department or staff.security,
        question="Проверьте операции",
        now=now,
    )


def test_each_step_stores_the_time_it_is_given(staff, case):
    sent_at = timezone.now() - timedelta(hours=5)
    answered_at = sent_at + timedelta(hours=1)
    first = _send(staff, case, now=sent_at)
    assert Case.objects.get(pk=case.pk).updated_at == sent_at
    services.handoff_answer(actor=staff.sam, handoff=first, answer="Готово.", now=answered_at)
    assert Case.objects.get(pk=case.pk).updated_at == answered_at  # back in work
    assert Message.objects.get(case=case, author=staff.sam).created_at == answered_at
    assert Deadline.objects.get(handoff=first).met_at == answered_at
    cancelled_at = answered_at + timedelta(hours=1)
    second = _send(staff, case, department=staff.treasury, now=cancelled_at - timedelta(minutes=5))
    services.handoff_cancel(actor=staff.alice, handoff=second, now=cancelled_at)
    assert Deadline.objects.get(handoff=second).cancelled_at == cancelled_at
    assert Case.objects.get(pk=case.pk).updated_at == cancelled_at


def test_files_are_stored_with_their_type_and_uploader(staff, case):
    handoff = services.handoff_send(
        actor=staff.olga, case=case, department=staff.security, question="См.", files=[_pdf()]
    )
    attachment = HandoffAttachment.objects.get(handoff=handoff)
    assert (attachment.content_type, attachment.uploaded_by_id) == (
        "application/pdf",
        staff.olga.pk,
    )
    assert attachment.file.read().startswith(b"%PDF")


def test_a_step_that_fails_after_writing_files_leaves_none(staff, case, settings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(services, "_announce", broken)
    with pytest.raises(RuntimeError):
        services.handoff_send(
            actor=staff.alice, case=case, department=staff.security, question="См.", files=[_pdf()]
        )
    stored = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert stored == [] and not Handoff.objects.exists()


def test_an_answer_on_a_page_loaded_before_the_owner_took_the_case_back(staff, case):
    handoff = _send(staff, case)
    stale = Handoff.objects.select_related("case").get(pk=handoff.pk)
    case_transition(actor=staff.alice, case=case, to_status=CaseStatus.IN_PROGRESS)
    services.handoff_answer(actor=staff.sam, handoff=stale, answer="Готово.")
    assert Handoff.objects.get(pk=handoff.pk).status == HandoffStatus.ANSWERED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS


def test_take_returns_the_handoff_taken(staff, case):
    handoff = _send(staff, case)
    taken = services.handoff_take(actor=staff.sam, handoff=handoff)
    assert (taken.pk, taken.status, taken.assignee_id) == (
        handoff.pk,
        HandoffStatus.IN_WORK,
        staff.sam.pk,
    )


def test_only_specialists_of_the_department_hear_of_a_new_handoff_not_its_head(staff, case):
    UserFactory(username="head", role=Role.SUPERVISOR, department=staff.security)
    _send(staff, case)
    assert list(LiveEvent.objects.filter(kind="handoff.new").values_list("user_id", flat=True)) == [
        staff.sam.pk
    ]


def test_reachability_on_a_case_the_specialist_cannot_see_is_refused(staff, case):
    other = make_case(actor=staff.alice, client=case.client, subject="Другое")
    _send(staff, other, department=staff.treasury)  # tom sees the other case only
    phone = case.client.contacts.get(kind=ChannelKind.PHONE)
    with pytest.raises(ServiceError):
        services.case_contact_set_reachability(
            actor=staff.tom, case=case, contact=phone, reachability=Reachability.LIMITED
        )
    phone.refresh_from_db()
    assert phone.reachability == Reachability.REACHABLE


def test_reachability_is_told_on_its_case_to_this_cases_working_specialists_only(staff, case):
    other = make_case(actor=staff.bob, client=case.client, subject="Другое")
    elsewhere = services.handoff_send(
        actor=staff.bob, case=other, department=staff.security, question="Проверьте"
    )
    services.handoff_take(actor=staff.sam, handoff=elsewhere)  # sam works the other case
    answered = _send(staff, case, department=staff.treasury)
    services.handoff_take(actor=staff.tom, handoff=answered)
    services.handoff_answer(actor=staff.tom, handoff=answered, answer="Готово.")  # tom is done
    phone = case.client.contacts.get(kind=ChannelKind.PHONE)
    long_note = "н" * 300
    contact = services.case_contact_set_reachability(
        actor=staff.olga,
        case=case,
        contact=phone,
        reachability=Reachability.LIMITED,
        note=long_note,
    )
    assert contact.pk == phone.pk and contact.reachability == Reachability.LIMITED
    told = LiveEvent.objects.filter(kind="case.reachability")
    assert list(told.values_list("user_id", "case_id")) == [(staff.alice.pk, case.pk)]
    event = CaseEvent.objects.get(case=case, field="reachability")
    assert len(event.new_value) == 300 and len(event.old_value) < 300
    audit = AuditRecord.objects.get(action="contact.reachability")
    assert (audit.via, audit.object_type, audit.object_id) == (
        "workspace",
        "contactpoint",
        str(phone.pk),
    )
