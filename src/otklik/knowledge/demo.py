"""Knowledge base for the demo: the bundled procedures plus some life in them.

`load_demo_knowledge()` is idempotent and quick: procedures are seeded once; pins go on a
few finished cases (never on open ones, so the story-000 call still shows pinning live);
three procedures await acknowledgement, some staff have already confirmed; the weekly
refresher is produced for the current week.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from otklik.cases.models import Case
from otklik.knowledge.models import Article, ArticleStatus, CasePin, RefresherRun
from otklik.knowledge.seed import load_data
from otklik.knowledge.selectors import suggest_for_case
from otklik.knowledge.services import (
    _request_acknowledgements,
    acknowledgement_confirm,
    case_pin,
    refresher_scan,
    seed_procedures,
)

ACK_SLUGS = ("iis-close-blocked-units", "card-unblock-abroad", "portal-answer-24h")
PINS = 12


def load_demo_knowledge() -> dict:
    added = seed_procedures()
    with transaction.atomic():
        if not RefresherRun.objects.exists():  # demo procedures have been around a while
            now = timezone.now()
            Article.objects.filter(
                slug__in=[a["slug"] for a in load_data()["articles"]],
                created_at__gte=now - timedelta(days=1),
            ).update(created_at=now - timedelta(weeks=26))
        pins = _pins()
        acks = _acks()
    return {"articles_added": added, "pins": pins, "acks": acks, "refreshers": refresher_scan()}


def _pins() -> int:
    if CasePin.objects.exists():
        return 0
    made = 0
    finished = Case.objects.filter(is_open=False, owner__isnull=False).select_related(
        "client", "topic", "owner"
    )
    for case in finished.order_by("-closed_at")[:40]:
        hits = suggest_for_case(user=case.owner, case=case, limit=1).hits
        if not hits:
            continue
        case_pin(user=case.owner, case=case, article=Article.objects.get(pk=hits[0].article_id))
        made += 1
        if made >= PINS:
            break
    return made


def _acks() -> int:
    made = 0
    for article in Article.objects.filter(slug__in=ACK_SLUGS, status=ArticleStatus.PUBLISHED):
        if article.acks.exists() or article.published_version is None:
            continue
        _request_acknowledgements(
            article=article, version=article.published_version, material=True, by=None
        )
        pending = list(article.acks.select_related("user").order_by("user__username"))
        for ack in pending[::2]:  # half of the staff already confirmed
            acknowledgement_confirm(user=ack.user, article=article)
        made += len(pending)
    return made
