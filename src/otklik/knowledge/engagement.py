"""Knowledge in daily work: pins and uses on cases, acknowledgements, refresher digests."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.knowledge.models import (
    Acknowledgement,
    Article,
    ArticleKind,
    ArticleStatus,
    ArticleUse,
    ArticleVersion,
    Audience,
    CasePin,
    RefresherDigest,
    RefresherRead,
    RefresherRun,
)


def _published_or_error(article: Article) -> ArticleVersion:
    if article.status != ArticleStatus.PUBLISHED or article.published_version_id is None:
        raise ServiceError({"article": _("Only a published article can be pinned or used.")})
    return article.published_version


@transaction.atomic
def case_pin(*, user, case, article: Article) -> CasePin:
    """Pin a procedure to a case (idempotent). Callers fetch both through the selectors,
    which check that the user may see the case and read the article."""
    version = _published_or_error(article)
    pin, _created = CasePin.objects.get_or_create(
        case=case, article=article, defaults={"version": version, "user": user}
    )
    return pin


@transaction.atomic
def case_unpin(*, user, case, article: Article) -> None:
    CasePin.objects.filter(case=case, article=article).delete()


@transaction.atomic
def article_mark_used(*, user, article: Article, case=None) -> ArticleUse:
    """«I used this»: counts as use for refreshers; once per user, article and case."""
    version = _published_or_error(article)
    use, _created = ArticleUse.objects.get_or_create(
        article=article, user=user, case=case, defaults={"version": version}
    )
    return use


@transaction.atomic
def acknowledgement_confirm(*, user, article: Article, now=None) -> int:
    """The user has read the procedure: confirm their pending requests for it."""
    now = now or timezone.now()
    return Acknowledgement.objects.filter(
        article=article, user=user, acknowledged_at__isnull=True
    ).update(acknowledged_at=now)


def refresher_period(now) -> str:
    year, week, _day = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def rarely_used_procedures(*, team, now=None, weeks: int | None = None, size: int | None = None):
    """Published procedures the team's members have neither pinned nor used for `weeks`,
    least recently used first; procedures newer than that are covered by acknowledgements."""
    now = now or timezone.now()
    weeks = settings.KNOWLEDGE_REFRESHER_WEEKS if weeks is None else weeks
    size = settings.KNOWLEDGE_REFRESHER_SIZE if size is None else size
    since = now - timedelta(weeks=weeks)
    recent = set(
        CasePin.objects.filter(created_at__gte=since, user__team=team).values_list(
            "article_id", flat=True
        )
    ) | set(
        ArticleUse.objects.filter(created_at__gte=since, user__team=team).values_list(
            "article_id", flat=True
        )
    )
    candidates = (
        Article.objects.filter(
            kind=ArticleKind.PROCEDURE,
            status=ArticleStatus.PUBLISHED,
            audience__in=[Audience.INTERNAL, Audience.BOTH],
            created_at__lt=since,
        )
        .exclude(pk__in=recent)
        .annotate(last_pin=Max("pins__created_at"))
        .order_by(F("last_pin").asc(nulls_first=True), "title")
    )
    team_roles = set(team.members.filter(is_active=True).values_list("role", flat=True))
    return [a for a in candidates if not a.roles or team_roles & set(a.roles)][:size]


def refresher_scan(now=None) -> int:
    """Periodic scan: once per ISO week, a refresher of rarely used procedures per team.

    Cheap when there is nothing to do (one indexed lookup); the unique period row lets a
    single worker claim the week. Returns how many digests were created.
    """
    from otklik.accounts.models import Team

    now = now or timezone.now()
    period = refresher_period(now)
    if RefresherRun.objects.filter(period=period).exists():
        return 0
    try:
        with transaction.atomic():
            RefresherRun.objects.create(period=period)
            created = 0
            for team in Team.objects.filter(members__is_active=True).distinct():
                articles = rarely_used_procedures(team=team, now=now)
                if not articles:
                    continue
                digest, made = RefresherDigest.objects.get_or_create(team=team, period=period)
                if made:
                    digest.articles.set(articles)
                    created += 1
    except IntegrityError:
        return 0  # another worker claimed this period
    return created


@transaction.atomic
def refresher_mark_read(*, user, digest: RefresherDigest) -> None:
    RefresherRead.objects.get_or_create(digest=digest, user=user)
