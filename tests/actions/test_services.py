"""Running actions: server-side enforcement, idempotency, executors, audit, the card panel."""

from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from otklik.actions.models import ActionRun, BackofficeCall, ClientFlag, RunStatus
from otklik.actions.services import ActionDenied, action_request, client_flag_set
from otklik.audit.models import AuditRecord
from otklik.cases.models import CaseEvent
from otklik.common.errors import ServiceError
from otklik.handoffs.models import Handoff
from tests.actions.conftest import phone_case


def _login(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_chat_operator_cannot_lift_the_fraud_check_before_security_verified(cast, abroad):
    with pytest.raises(ActionDenied) as refused:
        action_request(
            actor=cast.bob,
            case=abroad.chat_case,
            product=abroad.card,
            action_code="lift_fraud_check",
            input={"restriction_id": abroad.fraud.pk},
            channel="chat",
            idempotency_key="k1",
        )
    assert "СБ" in refused.value.decision.reason
    assert not ActionRun.objects.exists() and not BackofficeCall.objects.exists()
    denied = AuditRecord.objects.get(action="action.denied")
    assert denied.actor == cast.bob and denied.client_id == abroad.client.pk
    assert CaseEvent.objects.filter(case=abroad.chat_case, kind="action").exists()


def test_after_security_verifies_the_chat_operator_lifts_it(cast, abroad):
    client_flag_set(actor=cast.sam, client=abroad.client)
    run = action_request(
        actor=cast.bob,
        case=abroad.chat_case,
        product=abroad.card,
        action_code="lift_fraud_check",
        input={"restriction_id": abroad.fraud.pk, "comment": "СБ подтвердила"},
        channel="chat",
        idempotency_key="k1",
    )
    assert run.status == RunStatus.QUEUED
    assert run.interaction == abroad.chat and run.channel == "chat"
    call = BackofficeCall.objects.get()
    assert call.payload["restriction"] == {"id": abroad.fraud.pk, "kind": "fraud_check"}
    assert AuditRecord.objects.filter(action="action.allowed", object_id=str(run.pk)).exists()


def test_only_security_marks_a_client_verified(cast, abroad):
    with pytest.raises(ServiceError):
        client_flag_set(actor=cast.bob, client=abroad.client)
    with pytest.raises(ServiceError):
        client_flag_set(actor=cast.tom, client=abroad.client)
    client_flag_set(actor=cast.sam, client=abroad.client)
    assert ClientFlag.objects.get().set_by == cast.sam
    assert AuditRecord.objects.filter(action="client_flag.set", actor=cast.sam).exists()


def test_the_channel_must_be_the_live_contacts(cast, abroad):
    """Claiming "phone" while the live contact is a chat does not get around the policy."""
    with pytest.raises(ServiceError) as refused:
        action_request(
            actor=cast.bob,
            case=abroad.chat_case,
            product=abroad.card,
            action_code="lift_fraud_check",
            input={"restriction_id": abroad.fraud.pk},
            channel="phone",
            idempotency_key="k1",
        )
    assert "channel" in refused.value.message_dict
    assert not ActionRun.objects.exists()


def test_same_key_twice_is_one_run_and_one_call(cast, abroad):
    kwargs = dict(
        actor=cast.bob,
        case=abroad.chat_case,
        product=abroad.card,
        action_code="lift_foreign_operations",
        input={"restriction_id": abroad.foreign.pk},
        channel="chat",
        idempotency_key="double-click",
    )
    first = action_request(**kwargs)
    second = action_request(**kwargs)
    assert first.pk == second.pk
    assert ActionRun.objects.count() == 1 and BackofficeCall.objects.count() == 1


def test_court_order_goes_to_legal_by_handoff_on_the_phone(cast, abroad):
    case = phone_case(cast.olga, abroad.client)
    run = action_request(
        actor=cast.olga,
        case=case,
        product=abroad.account,
        action_code="lift_court_order",
        input={"restriction_id": abroad.court.pk, "comment": "Клиент оплатил долг"},
        channel="phone",
        idempotency_key="court-1",
    )
    assert run.status == RunStatus.HANDED_OFF
    handoff = Handoff.objects.get(pk=run.handoff_id)
    assert handoff.department.code == "legal"
    assert "Снять арест" in handoff.question and "Клиент оплатил долг" in handoff.question
    assert not BackofficeCall.objects.exists()


def test_refund_over_the_operators_limit_is_refused_with_the_alternative(cast, catalogue):
    from otklik.clients.services import client_create, product_create

    client = client_create(last_name="Зайцев", first_name="Андрей", phones=["+79031112233"])
    tariff = product_create(
        client=client,
        kind="telecom_tariff",
        name="Без абонентской платы",
        details={"msisdn": "9031112233", "balance": "0", "reserved": "950"},
    )
    case = phone_case(cast.alice, client)
    with pytest.raises(ActionDenied) as refused:
        action_request(
            actor=cast.alice,
            case=case,
            product=tariff,
            action_code="refund_charge",
            input={"amount": "4000", "reason": "Списание по старому тарифу"},
            channel="phone",
            idempotency_key="r1",
        )
    assert "старшего" in refused.value.decision.alternative
    with pytest.raises(ServiceError) as bad:
        action_request(
            actor=cast.alice,
            case=case,
            product=tariff,
            action_code="refund_charge",
            input={"amount": "-5", "reason": ""},
            channel="phone",
            idempotency_key="r2",
        )
    assert set(bad.value.message_dict) == {"amount", "reason"}
    run = action_request(
        actor=cast.alice,
        case=case,
        product=tariff,
        action_code="refund_charge",
        input={"amount": "990.50", "reason": "Списание по старому тарифу"},
        channel="phone",
        idempotency_key="r3",
    )
    assert run.status == RunStatus.QUEUED and run.input["amount"] == "990.50"


# --- views and API: the same policy on the server -----------------------------------------


def test_posting_a_forbidden_action_to_the_view_is_refused_and_audited(cast, abroad):
    http = _login(cast.bob)
    url = reverse("actions:action_submit", args=[abroad.card.pk, "lift_fraud_check"])
    response = http.post(
        url,
        {
            "case": abroad.chat_case.pk,
            "restriction_id": abroad.fraud.pk,
            "idempotency_key": "x",
        },
    )
    assert response.status_code == 422
    assert "СБ" in response.content.decode()
    assert not ActionRun.objects.exists()
    assert AuditRecord.objects.filter(action="action.denied", via="workspace").exists()


def test_posting_a_court_order_lift_from_chat_to_the_view_is_refused(cast, abroad):
    http = _login(cast.bob)
    url = reverse("actions:action_submit", args=[abroad.account.pk, "lift_court_order"])
    response = http.post(
        url,
        {"case": abroad.chat_case.pk, "restriction_id": abroad.court.pk, "idempotency_key": "y"},
    )
    assert response.status_code == 422
    assert "только по звонку на 900 или в офисе" in response.content.decode()
    assert not ActionRun.objects.exists()


def test_the_api_enforces_the_same_policy(cast, abroad):
    http = _login(cast.bob)
    body = {
        "action_code": "lift_fraud_check",
        "product_id": abroad.card.pk,
        "case_id": abroad.chat_case.pk,
        "channel": "chat",
        "input": {"restriction_id": abroad.fraud.pk},
    }
    refused = http.post(
        "/api/actions", body, content_type="application/json", headers={"Idempotency-Key": "a1"}
    )
    assert refused.status_code == 403, refused.content
    assert "СБ" in refused.json()["detail"] and refused.json()["rule_id"]
    assert AuditRecord.objects.filter(action="action.denied", via="api").exists()
    missing_key = http.post("/api/actions", body, content_type="application/json")
    assert missing_key.status_code == 422

    client_flag_set(actor=cast.sam, client=abroad.client)
    created = http.post(
        "/api/actions", body, content_type="application/json", headers={"Idempotency-Key": "a2"}
    )
    assert created.status_code == 201, created.content
    again = http.post(
        "/api/actions", body, content_type="application/json", headers={"Idempotency-Key": "a2"}
    )
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert ActionRun.objects.count() == 1
    runs = http.get(f"/api/actions/runs?case_id={abroad.chat_case.pk}")
    assert runs.status_code == 200 and runs.json()[0]["status"] == "queued"


def test_the_api_hides_other_teams_cases(cast, abroad):
    http = _login(cast.alice)  # team A; the chat case is team B's
    body = {
        "action_code": "lift_foreign_operations",
        "product_id": abroad.card.pk,
        "case_id": abroad.chat_case.pk,
        "channel": "chat",
        "input": {"restriction_id": abroad.foreign.pk},
    }
    response = http.post(
        "/api/actions", body, content_type="application/json", headers={"Idempotency-Key": "z"}
    )
    assert response.status_code == 422
    assert http.get(f"/api/actions/runs?case_id={abroad.chat_case.pk}").status_code == 404


def test_the_panel_shows_allowed_and_refused_actions_for_the_chat(cast, abroad):
    http = _login(cast.bob)
    url = reverse("actions:product_panel", args=[abroad.card.pk])
    page = http.get(url, {"case": abroad.chat_case.pk}).content.decode()
    assert 'data-channel="chat"' in page
    assert "Снять проверку правомерности операций" in page
    assert "только после того, как СБ отметила клиента проверенным" in page
    assert page.count("action-allowed") >= 1  # foreign operations
    account = http.get(
        reverse("actions:product_panel", args=[abroad.account.pk]), {"case": abroad.chat_case.pk}
    ).content.decode()
    assert "только по звонку на 900 или в офисе" in account
    assert AuditRecord.objects.filter(action="actions.view", actor=cast.bob).exists()


def test_the_form_shows_errors_next_to_fields_and_keeps_the_values(cast, catalogue):
    from otklik.clients.services import client_create, product_create

    client = client_create(last_name="Зайцев", first_name="Андрей", phones=["+79031112233"])
    tariff = product_create(
        client=client,
        kind="telecom_tariff",
        name="Без абонентской платы",
        details={"msisdn": "9031112233", "balance": "0"},
    )
    case = phone_case(cast.alice, client)
    http = _login(cast.alice)
    form = http.get(
        reverse("actions:action_form", args=[tariff.pk, "refund_charge"]), {"case": case.pk}
    )
    assert form.status_code == 200 and 'name="amount"' in form.content.decode()
    response = http.post(
        reverse("actions:action_submit", args=[tariff.pk, "refund_charge"]),
        {"case": case.pk, "amount": "abc", "reason": "Ошибочное списание", "idempotency_key": "f"},
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'value="abc"' in page and "Ошибочное списание" in page and "aria-invalid" in page


def test_matrix_is_for_supervisors(cast, catalogue):
    assert _login(cast.bob).get(reverse("actions:matrix")).status_code == 404
    page = _login(cast.sue).get(reverse("actions:matrix"))
    assert page.status_code == 200
    assert "Снять арест по решению суда" in page.content.decode()


def test_specialist_cannot_run_actions(cast, abroad):
    with pytest.raises(ServiceError):
        action_request(
            actor=cast.sam,
            case=abroad.chat_case,
            product=abroad.card,
            action_code="lift_foreign_operations",
            input={"restriction_id": abroad.foreign.pk},
            channel="chat",
            idempotency_key="s",
        )


# --- what a confirmed action changes on the card (no stale figures) -------------------------


def _confirm(run, result=None):
    from otklik.actions.executors import StepResult
    from otklik.actions.services import action_run_finished

    call = BackofficeCall.objects.get(key=f"action:{run.pk}")
    action_run_finished(call=call, step=StepResult("done", result or {"reference": "BO-7"}))


def test_disabling_internet_releases_the_reserve_and_a_new_tariff_drops_old_prices(cast, catalogue):
    from otklik.clients.models import Product
    from otklik.clients.services import client_create, product_create

    client = client_create(last_name="Зайцев", first_name="Андрей", phones=["+79501274833"])
    tariff = product_create(
        client=client,
        kind="telecom_tariff",
        name="Без абонентской платы",
        provider="Оператор связи «Волна»",
        details={
            "msisdn": "9501274833",
            "balance": "14.60",
            "reserved": "300",
            "internet_billing": "10 ₽ за каждые 2 МБ",
        },
    )
    internet = product_create(
        client=client,
        kind="telecom_service",
        name="Мобильный интернет (по факту)",
        details={"billing": "10 ₽ за каждые 2 МБ", "reserves_balance": True},
    )
    case = phone_case(cast.alice, client)
    run = action_request(
        actor=cast.alice,
        case=case,
        product=internet,
        action_code="disable_service",
        input={"service_product_id": internet.pk},
        channel="phone",
        idempotency_key="d1",
    )
    _confirm(run)
    tariff.refresh_from_db()
    assert Decimal(tariff.details["reserved"]) == 0
    assert Product.objects.get(pk=internet.pk).status == "closed"

    run = action_request(
        actor=cast.alice,
        case=case,
        product=tariff,
        action_code="change_tariff",
        input={"tariff_name": "Всё включено M"},
        channel="phone",
        idempotency_key="t1",
    )
    _confirm(run, {"reference": "BO-8", "monthly_fee": "450"})
    tariff.refresh_from_db()
    assert tariff.name == "Всё включено M"
    # The old tariff's internet price is gone: the new tariff's (from the catalogue) shows.
    assert tariff.details["internet_billing"] == "20 ГБ в месяц"
    assert Decimal(tariff.details["monthly_fee"]) == 450
