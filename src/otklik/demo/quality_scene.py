"""Demo: the five stories' improvement proposals, scorecards with evaluations, a library story.

Every story ends with the operator's proposal; here they are, linked to the demo cases on
their topics and moved along the workflow by the supervisor (who reviews as the analyst).
Written through the domain services; idempotent (a second run adds nothing).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import Department, Team, User
from otklik.cases.models import Case, Topic
from otklik.proposals.models import Proposal, ProposalStatus
from otklik.proposals.services import (
    proposal_create,
    proposal_merge,
    proposal_support,
    proposal_transition,
)

# story, author login, topic, department code, title, problem, proposal, effect, steps
PROPOSALS = [
    (
        "000",
        "broker",
        "Закрытие ИИС",
        "back_office",
        "Закрытие ИИС распоряжением с подписью в ЛК",
        "Клиент закрывает ИИС только в офисе: ездит дважды, чтобы подписать заявление.",
        "Оператор формирует распоряжение о закрытии, клиент подписывает его в личном кабинете; "
        "уведомление в налоговую с датами открытия и закрытия приходит туда же.",
        "Меньше визитов в офис и повторных звонков о закрытии ИИС.",
        [
            ProposalStatus.UNDER_REVIEW,
            ProposalStatus.ACCEPTED,
            ProposalStatus.IN_PROGRESS,
            ProposalStatus.IMPLEMENTED,
        ],
    ),
    (
        "001",
        "mfo",
        "Судебное взыскание",
        "legal",
        "Ответ в ЛК в течение суток вместо «перезвоните через два дня»",
        "По судебным вопросам клиента просят перезвонить, он звонит снова и снова.",
        "Оператор фиксирует вопрос и в течение суток отправляет исчерпывающий ответ в личный "
        "кабинет; клиенту приходит уведомление.",
        "Меньше повторных звонков по судебной работе.",
        [
            ProposalStatus.UNDER_REVIEW,
            ProposalStatus.ACCEPTED,
            ProposalStatus.IN_PROGRESS,
            ProposalStatus.IMPLEMENTED,
            ProposalStatus.MEASURED,
        ],
    ),
    (
        "002",
        "chat",
        "Блокировка карты",
        "security",
        "Особый порядок разблокировки для клиентов за границей",
        "Клиент за границей не получает звонки с коротких номеров, карта остаётся заблокированной.",
        "СБ ставит пометку об особом порядке, клиент звонит сам; оператор чата видит пометку.",
        "Карта разблокируется в день обращения.",
        [ProposalStatus.UNDER_REVIEW],
    ),
    (
        "003",
        "manager",
        "Автообмен валюты",
        "treasury",
        "Автообмен в момент зачисления зарплаты",
        "Автообмен проверяет остаток раз в час; между проверками с карты списываются комиссии, "
        "и обмен проходит не на ту сумму.",
        "Анализировать сумму зарплаты в момент зачисления и сразу выполнять обмен.",
        "Клиенты получают валюту на всю зарплату, меньше жалоб на автообмен.",
        [ProposalStatus.UNDER_REVIEW, ProposalStatus.ACCEPTED],
    ),
    (
        "003",
        "manager",
        "Перевыпуск карты",
        "product",
        "Буфер партнёрских карт для перевыпуска на тот же срок",
        "При закрытии партнёрской программы клиенту не могут перевыпустить карту того же уровня.",
        "Держать буфер карточных продуктов для перевыпуска на тот же срок действия.",
        "Клиент сохраняет уровень карты без индивидуальных согласований.",
        [],
    ),
    (
        "003",
        "manager",
        "Адрес доставки карты",
        "product",
        "Два часа на исправление адреса доставки карты",
        "Адрес доставки нельзя исправить после того, как заявка ушла в обработку.",
        "Дать клиенту два часа после подписания заявки, чтобы исправить адрес.",
        "Меньше перевыпусков карт, ушедших не по адресу.",
        [ProposalStatus.UNDER_REVIEW, ProposalStatus.ACCEPTED, ProposalStatus.IN_PROGRESS],
    ),
    (
        "004",
        "telecom",
        "Мобильный интернет",
        "product",
        "Опции интернета на архивных тарифах",
        "На архивных тарифах нет опций интернета: абонент с посекундной тарификацией теряет "
        "деньги на резервировании и не может сменить тариф.",
        "Открыть опции интернета (и «Мегасемью») на архивной линейке тарифов, подключение — "
        "в контактном центре.",
        "Меньше обращений о списаниях за интернет на старых тарифах.",
        [
            ProposalStatus.UNDER_REVIEW,
            ProposalStatus.ACCEPTED,
            ProposalStatus.IN_PROGRESS,
            ProposalStatus.IMPLEMENTED,
            ProposalStatus.MEASURED,
        ],
    ),
]


def _user(login: str) -> User | None:
    return User.objects.filter(username=login, is_active=True).first()


def _link_cases(proposal: Proposal, topic: Topic, limit: int) -> None:
    """Owners of cases on the topic add them: «+1 with my case»."""
    cases = Case.objects.filter(topic=topic, owner__isnull=False).order_by("created_at")[:limit]
    for case in cases:
        if not proposal.links.filter(case=case).exists():
            proposal_support(actor=case.owner, proposal=proposal, case=case)


@transaction.atomic
def load_demo_quality() -> int:
    """Returns how many proposals were added (0 when the scene is already there)."""
    supervisor = _user("supervisor")
    if supervisor is None or Proposal.objects.filter(title=PROPOSALS[0][4]).exists():
        return 0
    today = timezone.localdate()
    added = 0
    for _story, login, topic_name, dept, title, problem, text, effect, steps in PROPOSALS:
        author, topic = _user(login), Topic.objects.filter(name=topic_name).first()
        if author is None or topic is None:
            continue
        proposal = proposal_create(
            actor=author,
            title=title,
            problem=problem,
            proposal=text,
            expected_effect=effect,
            topic=topic,
            department=Department.objects.filter(code=dept).first(),
        )
        added += 1
        _link_cases(proposal, topic, limit=4)
        for step in steps:
            proposal = proposal_transition(
                actor=supervisor,
                proposal=proposal,
                to=step,
                implemented_on=today - timedelta(weeks=3)
                if step == ProposalStatus.IMPLEMENTED
                else None,
            )
    # Story 004: many raised the same idea; the analyst folds a duplicate into it.
    senior, original = (
        _user("telecom_senior"),
        Proposal.objects.filter(title=PROPOSALS[-1][4]).first(),
    )
    internet = Topic.objects.filter(name="Мобильный интернет").first()
    if senior is not None and original is not None and internet is not None:
        duplicate = proposal_create(
            actor=senior,
            title="Интернет-опции для старых тарифов",
            problem="Абоненты на старых тарифах не могут подключить пакет интернета.",
            proposal="Добавить пакеты интернета на архивные тарифы.",
            topic=internet,
        )
        proposal_merge(actor=supervisor, source=duplicate, target=original)
    load_demo_scorecards(supervisor=supervisor)
    load_demo_story(supervisor=supervisor)
    return added


def load_demo_scorecards(*, supervisor: User) -> None:
    from otklik.quality.models import Scorecard
    from otklik.quality.selectors import target_get_for_user
    from otklik.quality.services import evaluation_submit, scorecard_create

    if Scorecard.objects.exists():
        return
    criteria = [
        ("Приветствие и обращение", "Поздоровался, представился", 1, False),
        ("Приветствие и обращение", "Обращался по имени и отчеству", 1, False),
        ("Диагностика", "Выяснил суть вопроса и проверил данные", 2, False),
        ("Решение", "Дал верное и полное решение или срок ответа", 3, False),
        ("Эмпатия", "Проявил участие, спокойный тон", 1, False),
        ("Соблюдение требований", "Проверил личность до раскрытия данных", 2, True),
    ]
    card = scorecard_create(name="Стандарт качества контакта", criteria=criteria)
    scorecard_create(
        name="Звонок: телеком",
        criteria=[*criteria[:4], ("Эмпатия", "Объяснил причину списаний без упрёка", 2, False)],
    )
    results = {c.pk: "met" for c in card.criteria.all()}
    for login in ("operator", "chat", "telecom"):
        operator = _user(login)
        case = (
            Case.objects.filter(owner=operator).order_by("-created_at").first()
            if operator
            else None
        )
        if case is None:
            continue
        target = target_get_for_user(user=supervisor, kind="case", target_id=case.pk)
        if login == "chat":  # a lesson: the critical criterion failed
            failed = dict(results)
            failed[card.criteria.get(critical=True).pk] = "failed"
            evaluation_submit(
                evaluator=supervisor,
                target=target,
                scorecard=card,
                results=failed,
                comment="Данные карты названы до проверки личности.",
            )
        else:
            evaluation_submit(
                evaluator=supervisor,
                target=target,
                scorecard=card,
                results=results,
                comment="Спокойно, по делу, с понятным сроком ответа.",
            )


def load_demo_story(*, supervisor: User) -> None:
    from otklik.library.models import Story
    from otklik.library.services import story_assign, story_create, story_publish

    if Story.objects.exists():
        return
    case = (
        Case.objects.filter(topic__name="Мобильный интернет", messages__isnull=False)
        .order_by("created_at")
        .first()
    )
    if case is None:
        return
    story = story_create(
        actor=supervisor,
        kind="exemplary",
        case=case,
        product_kind="telecom_tariff",
        note="Успокоила абонента, объяснила резервирование и вернула деньги — образец тона.",
    )
    story_publish(actor=supervisor, story=story)
    team = Team.objects.filter(members__username="telecom").first()
    if team is not None:
        story_assign(actor=supervisor, story=story, team=team)
