"""`load_demo` builds the five stories' clients as the stories tell them, once."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.accounts.services import api_token_authenticate
from otklik.cases.models import Case, CaseStatus
from otklik.clients.models import Client, ContactPoint, Product, Reachability
from otklik.clients.product_details import validate_details
from otklik.clients.selectors import client_search
from otklik.common.luhn import luhn_valid
from otklik.demo.services import DEMO_STAFF, demo_api_token_raw


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # PBKDF2 costs a second per demo login; the tests check logins, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def development(settings):
    """`make run` is development (DEBUG=1): the demo with its memorable logins."""
    settings.DEBUG = True


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def story_client(last_name: str, first_name: str) -> Client:
    return Client.objects.get(last_name=last_name, first_name=first_name)


def active_restrictions(product: Product) -> set[str]:
    return set(product.restrictions.filter(lifted_at__isnull=True).values_list("kind", flat=True))


@pytest.mark.django_db
def test_load_demo_twice_creates_once_and_prints_logins_each_time():
    first = load_demo()
    counts = (Client.objects.count(), Case.objects.count(), Product.objects.count())
    second = load_demo()

    assert "already loaded" in second
    assert (Client.objects.count(), Case.objects.count(), Product.objects.count()) == counts
    assert counts[0] >= 35 and counts[1] >= 60
    token = demo_api_token_raw()
    for output in (first, second):
        for spec in DEMO_STAFF:
            assert re.search(rf"\b{spec.login}\s+{spec.password}\b", output)
        assert token in output
    # Every printed login works, and the token belongs to the operator.
    for spec in DEMO_STAFF:
        assert User.objects.get(username=spec.login).check_password(spec.password)
    assert User.objects.get(username="admin").is_superuser
    assert set(User.objects.values_list("role", flat=True)) >= set(Role.values)
    assert api_token_authenticate(raw=token).username == "operator"
    # ...and again on request (`make logins`), changing nothing.
    again = StringIO()
    call_command("demo_logins", stdout=again)
    for spec in DEMO_STAFF:
        assert re.search(rf"\b{spec.login}\s+{spec.password}\b", again.getvalue())
    assert (Client.objects.count(), Case.objects.count(), Product.objects.count()) == counts


@pytest.mark.django_db
def test_demo_logins_before_the_demo_says_how_to_load_it():
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "load_demo" in out.getvalue() and not Client.objects.exists()


@pytest.mark.django_db
def test_demo_holds_the_stories_key_facts():
    load_demo()

    # 000: ИИС type 1 with frozen ОПИФ units held on it, a payout account, deduction lost.
    kuznetsov = story_client("Кузнецов", "Игорь")
    iis = kuznetsov.products.get(kind="iis")
    assert iis.details["iis_type"] == 1 and iis.details["tax_deduction_lost"]
    opif = iis.children.get()
    assert opif.details["fund_type"] == "opif" and opif.details["frozen"]
    assert active_restrictions(opif) == {"sanctions_freeze"}
    assert kuznetsov.products.filter(kind="bank_account").exists()
    assert kuznetsov.cases.filter(is_open=True, topic__name="Закрытие ИИС").count() == 1
    assert kuznetsov.cases.filter(is_open=False).count() == 2  # the earlier refusals

    # 000: Александр Анатольевич — ЗПИФ plus the БПИФ the dividends were swept into.
    belov = story_client("Белов", "Александр")
    assert belov.greeting_name == "Александр Анатольевич"
    funds = {p.details["fund_type"]: p.name for p in belov.products.filter(kind="fund_units")}
    assert "Складская недвижимость" in funds["zpif"] and "Денежный рынок" in funds["bpif"]

    # 001: a loan in court collection, the question waiting for the legal department.
    loan = story_client("Соколов", "Дмитрий").products.get(kind="loan")
    assert loan.details["court_status"] == "claim_filed" and loan.details["court_case_number"]
    court_case = loan.client.cases.get(is_open=True, handoffs__department__code="legal")
    assert court_case.status == CaseStatus.WAITING_DEPARTMENT
    assert court_case.handoffs.get().department.code == "legal"
    assert story_client("Миронова", "Татьяна").cases.get().topic.name == "Непонятные списания"

    # 002: abroad — phone limited with the reason, chat reachable; card with two blocks.
    lebedeva = story_client("Лебедева", "Наталья")
    phone = lebedeva.contacts.get(kind="phone")
    assert phone.reachability == Reachability.LIMITED
    assert "коротких номеров" in phone.reachability_note
    assert lebedeva.contacts.get(kind="chat").reachability == Reachability.REACHABLE
    card = lebedeva.products.get(kind="card")
    assert active_restrictions(card) == {"fraud_check", "foreign_operations"}
    assert lebedeva.cases.filter(status=CaseStatus.NEW, channel="chat").exists()

    # 003: premium client of the personal manager, auto-exchange parameters, seized card.
    orlov = story_client("Орлов", "Константин")
    assert orlov.segment == "premium" and orlov.personal_manager.username == "manager"
    fx = orlov.products.get(kind="bank_service")
    assert fx.details["parameters"]["schedule"] == "каждый час с 9:00 до 17:00"
    assert orlov.products.filter(
        kind="card", status="blocked", details__level="World Black Edition"
    ).exists()
    assert {c.topic.name for c in orlov.cases.filter(is_open=True)} == {
        "Автообмен валюты",
        "Перевыпуск карты",
        "Адрес доставки карты",
    }

    # 004: no-fee tariff, pay-as-you-go internet that reserves balance.
    zaitsev = story_client("Зайцев", "Андрей")
    tariff = zaitsev.products.get(kind="telecom_tariff")
    assert float(tariff.details["monthly_fee"]) == 0 and float(tariff.details["reserved"]) > 0
    assert zaitsev.products.get(kind="telecom_service").details["reserves_balance"]

    # 004: the telecom team's senior operator sees the case and may approve a 3 500 ₽ refund.
    from otklik.actions.models import ActionType
    from otklik.actions.policy import evaluate
    from otklik.actions.selectors import actions_for_product
    from otklik.cases.selectors import case_get_for_user

    senior = User.objects.get(username="telecom_senior")
    assert senior.role == Role.SENIOR_OPERATOR
    assert senior.team == User.objects.get(username="telecom").team
    zaitsev_case = zaitsev.cases.filter(is_open=True).first()
    assert case_get_for_user(user=senior, case_id=zaitsev_case.pk) == zaitsev_case
    refund = ActionType.objects.get(code="refund_charge")
    assert evaluate(refund, role=senior.role, channel="phone", facts={"amount": 3500}).allowed
    assert not evaluate(refund, role=Role.OPERATOR, channel="phone", facts={"amount": 3500}).allowed

    # 003: the treasury handoff names the rate and the credit date; the FX form is prefilled.
    fx_case = orlov.cases.get(topic__name="Автообмен валюты")
    question = fx_case.handoffs.get(department__code="treasury").question
    assert "92,47 ₽" in question and re.search(r"\b\d\d\.\d\d\.\d{4}\b", question)
    manager = User.objects.get(username="manager")
    offers = actions_for_product(user=manager, client=orlov, product=fx, channel="phone")
    exchange = next(o for o in offers if o.action.code == "start_auto_exchange")
    assert exchange.initial["rate"] == "92.47" and exchange.initial["currency_pair"] == "RUB→USD"

    # Across the demo: valid details, Luhn-valid PANs, Russian mobile formats, an overdue case.
    for product in Product.objects.all():
        assert validate_details(product.kind, product.details) == product.details
        if product.kind == "card":
            assert luhn_valid(product.details["pan"])
    for value in ContactPoint.objects.filter(kind="phone").values_list("value", flat=True):
        assert re.fullmatch(r"\+79\d{9}", value)
    assert Case.objects.filter(is_open=True, due_at__lt=timezone.now()).exists()
    assert Case.objects.filter(is_open=False).count() > 20  # lived-in history

    # Story clients are found the way an operator types.
    operator = User.objects.get(username="operator")
    assert kuznetsov in client_search(user=operator, query="8 (916) 482-17-35")
    assert belov in client_search(user=operator, query="Белов Алекс")
    assert loan.client in client_search(user=operator, query="З-2024-0158843")


@pytest.mark.django_db
def test_printed_demo_passwords_are_hashed_cheaply_and_at_full_strength_after_login(
    settings, client
):
    """The development demo's passwords are printed for all to read: few PBKDF2 rounds
    (the first start is seconds shorter), re-hashed at full strength by the first login."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from otklik.demo.reference import reference_data_ensure
    from otklik.demo.services import _staff_ensure

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    staff, shown = _staff_ensure(reference_data_ensure(), random_passwords=False)
    assert staff["operator"].password.startswith("pbkdf2_sha256$1000$")
    assert client.login(username="operator", password=shown["operator"])
    assert not client.login(username="operator", password="wrong")
    staff["operator"].refresh_from_db()
    full = PBKDF2PasswordHasher.iterations
    assert full > 1000 and staff["operator"].password.startswith(f"pbkdf2_sha256${full}$")
    assert User.objects.get(username="supervisor").password.startswith("pbkdf2_sha256$1000$")


@pytest.mark.django_db
def test_the_absent_colleague_of_story_003_has_a_printed_login():
    from otklik.relationship.models import Absence

    printed = load_demo()
    again = StringIO()
    call_command("demo_logins", stdout=again)

    absence = Absence.objects.select_related("manager", "deputy").get()
    assert (absence.manager.username, absence.deputy.username) == ("manager2", "manager")
    for output in (printed, again.getvalue()):
        assert re.search(r"\bmanager2\s+otklik-manager2\s+Марина Белова\b", output)
    assert absence.manager.check_password("otklik-manager2")
    assert absence.manager.role == Role.PERSONAL_MANAGER
