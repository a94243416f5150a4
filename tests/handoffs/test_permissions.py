"""Who may see and do what: a department sees only its own handoffs."""

import pytest
from django.http import Http404

from otklik.common.errors import ServiceError
from otklik.handoffs import services
from otklik.handoffs.selectors import case_handoffs, department_queue, handoff_get_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_security(staff, case):
    return services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Разблокировка?"
    )


def test_treasury_cannot_see_or_take_securitys_handoff(staff, to_security):
    with pytest.raises(Http404):
        handoff_get_for_user(user=staff.tom, handoff_id=to_security.pk)
    with pytest.raises(ServiceError):
        services.handoff_take(actor=staff.tom, handoff=to_security)
    with pytest.raises(ServiceError):
        services.handoff_answer(actor=staff.tom, handoff=to_security, answer="Не наше.")
    assert department_queue(user=staff.tom) == []


def test_specialist_sees_only_own_department_in_queue_and_on_case(staff, case, to_security):
    to_treasury = services.handoff_send(
        actor=staff.alice, case=case, department=staff.treasury, question="Списания?"
    )
    assert [r.handoff for r in department_queue(user=staff.sam)] == [to_security]
    assert [r.handoff for r in department_queue(user=staff.tom)] == [to_treasury]
    assert [r.handoff for r in case_handoffs(user=staff.sam, case=case)] == [to_security]
    with pytest.raises(Http404):
        handoff_get_for_user(user=staff.sam, handoff_id=to_treasury.pk)
    # the supervisor sees every department; an operator has no department queue
    assert {r.handoff for r in department_queue(user=staff.sue)} == {to_security, to_treasury}
    assert department_queue(user=staff.alice) == []


def test_operator_of_another_team_cannot_send_or_steer(staff, case, to_security):
    with pytest.raises(ServiceError):
        services.handoff_send(
            actor=staff.bob, case=case, department=staff.security, question="Чужое обращение"
        )
    with pytest.raises(Http404):
        handoff_get_for_user(user=staff.bob, handoff_id=to_security.pk)
    with pytest.raises(ServiceError):
        services.handoff_cancel(actor=staff.bob, handoff=to_security)
    with pytest.raises(ServiceError):
        services.case_watch(actor=staff.bob, case=case)


def test_specialists_do_not_send_cancel_or_reply(staff, case, to_security):
    with pytest.raises(ServiceError):
        services.handoff_send(
            actor=staff.sam, case=case, department=staff.treasury, question="Переслать"
        )
    services.handoff_ask_owner(actor=staff.sam, handoff=to_security, question="Уточните")
    with pytest.raises(ServiceError):
        services.handoff_owner_reply(actor=staff.sam, handoff=to_security, reply="Сам себе")
    with pytest.raises(ServiceError):
        services.handoff_cancel(actor=staff.sam, handoff=to_security)


def test_team_colleague_and_supervisor_may_steer(staff, case, to_security):
    services.handoff_ask_owner(actor=staff.sam, handoff=to_security, question="Уточните")
    services.handoff_owner_reply(actor=staff.olga, handoff=to_security, reply="Клиент в чате")
    services.handoff_answer(actor=staff.sue, handoff=to_security, answer="Ответ супервизора")
    assert to_security.status == "answered"
