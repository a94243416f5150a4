"""Workspace views: who sees what, what the operator can do, and what gets logged."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otklik.audit.models import AuditRecord
from otklik.audit.spool import spool_flush
from otklik.cases.models import CaseStatus, Message, MessageVisibility
from otklik.cases.services import case_transition
from otklik.clients.models import ChannelKind, ContactPoint, Reachability, RestrictionKind
from otklik.clients.services import product_create, restriction_place
from otklik.handoffs.models import Handoff
from tests.factories import ClientFactory, TopicFactory, make_case, make_product


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, cast):
    return login(client, cast.alice)


# --- access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("workspace:queue", []),
        ("workspace:client_search", []),
        ("workspace:client_card", [1]),
        ("workspace:case_detail", [1]),
    ],
)
def test_pages_require_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_bob_gets_404_on_alice_team_case(client, cast):
    case = make_case(actor=cast.alice)
    login(client, cast.bob)
    assert client.get(reverse("workspace:case_detail", args=[case.pk])).status_code == 404
    response = client.post(
        reverse("workspace:case_transition", args=[case.pk]), {"status": CaseStatus.IN_PROGRESS}
    )
    assert response.status_code == 404
    response = client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "чужое", "visibility": "internal"},
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert not case.messages.exists()


def test_specialist_sees_handed_off_case_read_only(client, cast):
    case = make_case(actor=cast.alice)
    Handoff.objects.create(
        case=case,
        department=cast.security,
        question="Проверьте операцию",
        created_by=cast.alice,
        created_at=timezone.now(),
    )
    login(client, cast.sam)
    response = client.get(reverse("workspace:case_detail", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="status"' not in html  # no transition buttons
    assert "<fieldset disabled>" in html
    assert 'value="public"' not in html  # may not reply to the client
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("workspace:case_transition", args=[case.pk]),
        {"status": CaseStatus.RESOLVED},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert "Department specialists answer through the handoff" in response.content.decode()


def test_specialist_without_handoff_gets_404(client, cast):
    case = make_case(actor=cast.alice)
    login(client, cast.tom)
    assert client.get(reverse("workspace:case_detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("workspace:client_card", args=[case.client_id])).status_code == 404


# --- case page ---------------------------------------------------------------------------


def test_case_page_shows_header_and_allowed_transitions(alice_client, cast):
    topic = TopicFactory(name="Закрытие ИИС")
    case = make_case(actor=cast.alice, subject="Закрыть ИИС", topic=topic)
    response = alice_client.get(reverse("workspace:case_detail", args=[case.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Закрыть ИИС" in html and "Закрытие ИИС" in html
    assert case.client.greeting_name in html
    assert 'value="in_progress"' in html
    assert 'name="status" value="closed"' not in html  # not allowed from "new"
    spool_flush()
    assert (
        AuditRecord.objects.filter(
            actor=cast.alice, action="case.view", client=case.client, via="workspace"
        ).count()
        == 1
    )


def test_invalid_transition_shows_service_message_and_changes_nothing(alice_client, cast):
    case = make_case(actor=cast.alice)
    alice_client.cookies["django_language"] = "en"
    response = alice_client.post(
        reverse("workspace:case_transition", args=[case.pk]),
        {"status": CaseStatus.CLOSED},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A case in status «New» cannot be closed: resolve it first." in html
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert not case.events.filter(kind="status_changed").exists()


def test_garbage_transition_does_not_crash(alice_client, cast):
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:case_transition", args=[case.pk]), {"status": "<nonsense>"}, follow=True
    )
    assert response.status_code == 200
    assert "&lt;nonsense&gt;" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_valid_transition_is_recorded_with_translated_labels(alice_client, cast):
    case = make_case(actor=cast.alice)
    alice_client.post(
        reverse("workspace:case_transition", args=[case.pk]), {"status": CaseStatus.WAITING_CLIENT}
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_CLIENT
    alice_client.cookies["django_language"] = "en"
    html = alice_client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "Waiting for client" in html


def test_message_add_with_htmx_returns_timeline(alice_client, cast):
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "Перезвоним после проверки СБ", "visibility": MessageVisibility.PUBLIC},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="timeline"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "Перезвоним после проверки СБ" in html
    assert 'id="message-form"' in html
    message = Message.objects.get(case=case)
    assert message.visibility == MessageVisibility.PUBLIC
    assert message.author == cast.alice
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS  # staff writing takes a new case into work


def test_message_add_without_js_redirects_and_appears(alice_client, cast):
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "Внутренняя заметка", "visibility": "internal"},
        follow=True,
    )
    html = response.content.decode()
    assert "Внутренняя заметка" in html
    assert "msg-internal" in html


def test_empty_message_shows_error_and_keeps_choice(alice_client, cast):
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "   ", "visibility": "public"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error"' in html
    assert 'value="public" checked' in html
    assert not Message.objects.exists()


def test_case_edit_error_keeps_user_text(alice_client, cast):
    case = make_case(actor=cast.alice, subject="Старая тема")
    long_subject = "Очень длинная тема " * 20
    response = alice_client.post(
        reverse("workspace:case_edit", args=[case.pk]),
        {"subject": long_subject, "priority": "3", "owner": str(cast.alice.pk), "topic": ""},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "300" in html  # the service's message
    assert long_subject.strip()[:50] in html
    case.refresh_from_db()
    assert case.subject == "Старая тема"
    assert case.priority == 2


def test_case_edit_changes_fields_and_history(alice_client, cast):
    topic = TopicFactory(name="Судебное взыскание")
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:case_edit", args=[case.pk]),
        {
            "subject": "Долг в суде",
            "priority": "4",
            "owner": str(cast.olga.pk),
            "topic": str(topic.pk),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.subject, case.priority, case.owner, case.topic) == (
        "Долг в суде",
        4,
        cast.olga,
        topic,
    )
    html = alice_client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "Долг в суде" in html and "Судебное взыскание" in html


def test_case_edit_rejects_owner_from_another_team(alice_client, cast):
    case = make_case(actor=cast.alice)
    response = alice_client.post(
        reverse("workspace:case_edit", args=[case.pk]),
        {"subject": case.subject, "priority": "2", "owner": str(cast.bob.pk), "topic": ""},
    )
    assert response.status_code == 422
    case.refresh_from_db()
    assert case.owner == cast.alice


# --- client card and intake --------------------------------------------------------------


def test_card_view_writes_audit_record(alice_client, cast):
    person = ClientFactory()
    response = alice_client.get(reverse("workspace:client_card", args=[person.pk]))
    assert response.status_code == 200
    spool_flush()
    record = AuditRecord.objects.get(action="client.view")
    assert (record.actor, record.client, record.via) == (cast.alice, person, "workspace")


def test_card_escapes_client_text(alice_client, cast):
    person = ClientFactory(preferences="<script>alert('x')</script>")
    ContactPoint.objects.create(
        client=person,
        kind=ChannelKind.EMAIL,
        value="a@example.ru",
        reachability=Reachability.LIMITED,
        reachability_note="<script>alert(1)</script> за границей",
    )
    html = alice_client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; за границей" in html


def test_card_shows_products_restrictions_and_reachability(alice_client, cast):
    person = ClientFactory(address_as="Александр Анатольевич")
    ContactPoint.objects.create(
        client=person,
        kind=ChannelKind.PHONE,
        value="+79990001122",
        reachability=Reachability.UNREACHABLE,
        reachability_note="за границей: звонки с коротких номеров не проходят",
    )
    iis = product_create(
        client=person, kind="iis", name="ИИС", number="IIS-77", details={"iis_type": 2}
    )
    product_create(
        client=person,
        kind="fund_units",
        name="Фонд облигаций",
        parent=iis,
        details={"fund_type": "opif", "units": "12.5", "frozen": True},
    )
    product_create(
        client=person,
        kind="loan",
        name="Заём",
        number="Z-1",
        details={
            "principal": "30000",
            "outstanding": "41000",
            "court_status": "claim_filed",
            "court_case_number": "2-123/2026",
        },
    )
    card = make_product(
        person,
        "card",
        details={
            "pan": "2200700000000007",
            "level": "Gold",
            "payment_system": "Мир",
            "expires": "12/29",
            "package": "Премиум",
        },
    )
    restriction_place(product=card, kind=RestrictionKind.FRAUD_CHECK, reason="Проверка операции")
    product_create(
        client=person,
        kind="telecom_tariff",
        name="Тариф Всё",
        details={"msisdn": "+7 999 000-11-22", "balance": "150.00", "reserved": "90.00"},
    )
    html = alice_client.get(reverse("workspace:client_card", args=[person.pk])).content.decode()
    assert "Александр Анатольевич" in html
    assert "за границей: звонки с коротких номеров не проходят" in html
    assert "reach-unreachable" in html
    assert "ОПИФ" in html
    assert "products nested" in html  # units listed under their ИИС
    assert "2-123/2026" in html
    pan = card.details["pan"]
    assert pan not in html and pan[-4:] in html  # masked
    assert "Проверка операции" in html
    assert "90,00" in html or "90.00" in html


def test_intake_in_three_clicks_creates_case_and_interaction(alice_client, cast):
    person = ClientFactory()
    topic = TopicFactory(name="Карты")
    response = alice_client.get(
        reverse("workspace:intake_form", args=[person.pk]),
        {"channel": "chat"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'value="chat"' in response.content.decode()
    response = alice_client.post(
        reverse("workspace:intake_submit", args=[person.pk]),
        {
            "channel": "chat",
            "subject": "Не проходит оплата",
            "topic": str(topic.pk),
            "priority": "3",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    case = person.cases.get()
    assert response["HX-Redirect"] == reverse("workspace:case_detail", args=[case.pk])
    assert (case.subject, case.channel, case.topic, case.priority) == (
        "Не проходит оплата",
        "chat",
        topic,
        3,
    )
    assert case.interactions.get().channel == "chat"


def test_intake_without_subject_keeps_form_with_error(alice_client, cast):
    person = ClientFactory()
    response = alice_client.post(
        reverse("workspace:intake_submit", args=[person.pk]),
        {"channel": "phone", "subject": "", "priority": "4", "summary": "звонил из Турции"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "звонил из Турции" in html
    assert 'id="intake-form"' in html
    assert not person.cases.exists()


def test_continue_on_channel_registers_interaction(alice_client, cast):
    case = make_case(actor=cast.alice)
    case_transition(actor=cast.alice, case=case, to_status=CaseStatus.WAITING_CLIENT)
    response = alice_client.post(
        reverse("workspace:case_continue", args=[case.pk]), {"channel": "portal"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:case_detail", args=[case.pk])
    assert case.interactions.get().channel == "portal"


# --- search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["+7 (916) 555-12-34", "8 916 5551234", "9165551234", "79165551234", "916555"]
)
def test_search_finds_by_phone_in_any_format(alice_client, cast, query):
    person = ClientFactory(phone="+7 916 555-12-34", last_name="Телефонов")
    ClientFactory(phone="+7 926 000-00-00", last_name="Посторонний")
    response = alice_client.post(reverse("workspace:client_search"), {"q": query})
    html = response.content.decode()
    assert "Телефонов" in html and "Посторонний" not in html
    assert AuditRecord.objects.filter(action="client.search", client=person).exists()


def test_search_live_fragment_and_contract_number(alice_client, cast):
    person = ClientFactory(last_name="Договоров")
    product_create(
        client=person, kind="iis", name="ИИС", number="ИИС-2024/77", details={"iis_type": 3}
    )
    response = alice_client.post(
        reverse("workspace:client_search"),
        {"q": "иис-2024"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="search-results",
    )
    html = response.content.decode()
    assert "<html" not in html  # a fragment for htmx
    assert "Договоров" in html


def test_search_nothing_found(alice_client, cast):
    response = alice_client.post(reverse("workspace:client_search"), {"q": "<b>zz"})
    html = response.content.decode()
    assert "&lt;b&gt;zz" in html
    assert not AuditRecord.objects.exists()


# --- queue -------------------------------------------------------------------------------


def test_queue_lists_team_cases_and_filters(alice_client, cast):
    mine = make_case(actor=cast.alice, subject="Моё обращение", channel="chat")
    make_case(actor=cast.olga, subject="Обращение Ольги", channel="phone")
    make_case(actor=cast.bob, subject="Чужая команда")
    html = alice_client.get(reverse("workspace:queue")).content.decode()
    assert "Моё обращение" in html and "Обращение Ольги" in html
    assert "Чужая команда" not in html
    html = alice_client.get(reverse("workspace:queue"), {"scope": "mine"}).content.decode()
    assert "Обращение Ольги" not in html and "Моё обращение" in html
    response = alice_client.get(
        reverse("workspace:queue"),
        {"channel": "chat"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue-results",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert mine.subject in html and "Обращение Ольги" not in html


def test_queue_scope_all_only_for_supervisors(client, cast):
    make_case(actor=cast.bob, subject="Чужая команда")
    login(client, cast.alice)
    html = client.get(reverse("workspace:queue"), {"scope": "all"}).content.decode()
    assert "Чужая команда" not in html
    assert 'value="all"' not in html
    client.logout()
    login(client, cast.sue)
    html = client.get(reverse("workspace:queue"), {"scope": "all"}).content.decode()
    assert "Чужая команда" in html


def test_queue_overdue_highlighted(alice_client, cast):
    old = make_case(actor=cast.alice, subject="Просрочено", now=timezone.now() - timedelta(days=10))
    html = alice_client.get(reverse("workspace:queue"), {"overdue": "1"}).content.decode()
    assert old.subject in html and "row-overdue" in html


def test_queue_pagination_has_next(alice_client, cast, settings):
    settings.QUEUE_PAGE_SIZE = 2
    for n in range(3):
        make_case(actor=cast.alice, subject=f"Обращение {n}")
    html = alice_client.get(reverse("workspace:queue")).content.decode()
    assert "page=2" in html
    html = alice_client.get(reverse("workspace:queue"), {"page": "2"}).content.decode()
    assert "Обращение 2" in html and "page=3" not in html


def test_queue_does_not_n_plus_one(alice_client, cast, django_assert_max_num_queries):
    topic = TopicFactory(name="Карты")
    for n in range(3):
        make_case(actor=cast.alice, client=ClientFactory(), subject=f"A{n}", topic=topic)
    with django_assert_max_num_queries(8) as captured:
        alice_client.get(reverse("workspace:queue"))
    small = len(captured)
    for n in range(20):
        make_case(actor=cast.olga, client=ClientFactory(), subject=f"B{n}", topic=topic)
    with django_assert_max_num_queries(small):
        response = alice_client.get(reverse("workspace:queue"))
    assert "B19" in response.content.decode()


def test_message_text_is_escaped(alice_client, cast):
    case = make_case(actor=cast.alice, subject="<img src=x onerror=alert(1)>")
    alice_client.post(
        reverse("workspace:message_create", args=[case.pk]),
        {"body": "<script>alert('x')</script>\nвторая строка", "visibility": "internal"},
    )
    html = alice_client.get(reverse("workspace:case_detail", args=[case.pk])).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>вторая строка" in html


def test_supervisor_without_team_sees_all_by_default(client, cast):
    make_case(actor=cast.bob, subject="Чат банка: вопрос")
    make_case(actor=cast.alice, subject="Вторая линия: вопрос")
    login(client, cast.sue)
    html = client.get(reverse("workspace:queue")).content.decode()
    assert "Чат банка: вопрос" in html and "Вторая линия: вопрос" in html


def test_queue_query_count_is_flat(alice_client, cast, django_assert_num_queries):
    """Pin the exact number so a new lazy lookup in the template is noticed."""
    make_case(actor=cast.alice, topic=TopicFactory(name="Карты"))
    with django_assert_num_queries(4):  # session, user, user's team, one page of cases
        alice_client.get(reverse("workspace:queue"))


def test_language_switch_to_english_and_back(alice_client, cast):
    queue = reverse("workspace:queue")
    response = alice_client.post("/i18n/setlang/", {"language": "en", "next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    assert "Incoming contact" in alice_client.get(queue).content.decode()
    alice_client.post("/i18n/setlang/", {"language": "ru", "next": queue})
    assert "Входящий контакт" in alice_client.get(queue).content.decode()


def test_real_login_and_logout(client, cast):
    response = client.post(reverse("login"), {"username": "alice", "password": "pass-12345"})
    assert response.status_code == 302
    assert client.get(reverse("workspace:queue")).status_code == 200
    assert client.get(reverse("login")).status_code == 302  # already signed in
    client.post(reverse("logout"))
    assert client.get(reverse("workspace:queue")).status_code == 302
