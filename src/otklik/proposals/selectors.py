"""Reads about proposals: who may do what, lists, similar proposals, the topic's case volume.

Proposals hold no client data (their text is redacted when stored), so every member of staff
may read them; the cases linked to a proposal are shown in full only to those who may see
the case (`cases_visible_q`), to others as a bare reference.
"""

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.cases.models import Case
from otklik.cases.selectors import cases_visible_q
from otklik.proposals.models import Proposal, ProposalLink, ProposalStatus

#: Which status may follow which; one place for the whole workflow.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProposalStatus.NEW: (ProposalStatus.UNDER_REVIEW, ProposalStatus.DECLINED),
    ProposalStatus.UNDER_REVIEW: (ProposalStatus.ACCEPTED, ProposalStatus.DECLINED),
    ProposalStatus.ACCEPTED: (ProposalStatus.IN_PROGRESS, ProposalStatus.DECLINED),
    ProposalStatus.IN_PROGRESS: (ProposalStatus.IMPLEMENTED,),
    ProposalStatus.IMPLEMENTED: (ProposalStatus.MEASURED,),
    ProposalStatus.DECLINED: (ProposalStatus.UNDER_REVIEW,),
    ProposalStatus.MEASURED: (),
    ProposalStatus.MERGED: (),
}
OPEN_STATUSES = (ProposalStatus.NEW, ProposalStatus.UNDER_REVIEW)
SORTS = ("new", "links", "votes")


def is_staff_member(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_analyst(user: User) -> bool:
    """Analysts review every proposal and merge duplicates: supervisors, admins and anyone
    given the `proposals.review_proposal` permission (directly or through a group)."""
    if not is_staff_member(user):
        return False
    return user.sees_everything or user.has_perm("proposals.review_proposal")


def can_review(*, user: User, proposal: Proposal) -> bool:
    """Analysts, and the specialists of the proposal's owner department, move it along."""
    if is_analyst(user):
        return True
    return (
        is_staff_member(user)
        and user.role == Role.SPECIALIST
        and proposal.department_id is not None
        and user.department_id == proposal.department_id
    )


def can_merge(*, user: User) -> bool:
    return is_analyst(user)


def next_statuses(*, user: User, proposal: Proposal) -> list[str]:
    if not can_review(user=user, proposal=proposal):
        return []
    return list(TRANSITIONS.get(proposal.status, ()))


def proposal_get_for_user(*, user: User, proposal_id: int) -> Proposal:
    if not is_staff_member(user):
        raise Http404
    proposal = (
        Proposal.objects.select_related("topic", "department", "author", "merged_into")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise Http404
    return proposal


def _annotated() -> QuerySet[Proposal]:
    return Proposal.objects.select_related("topic", "department", "author").annotate(
        link_count=Count("links", distinct=True), vote_count=Count("votes", distinct=True)
    )


@dataclass(frozen=True)
class ProposalFilters:
    status: str = ""
    department_id: int | None = None
    topic_id: int | None = None
    min_links: int = 0
    sort: str = "new"


def proposal_list(*, user: User, filters: ProposalFilters) -> QuerySet[Proposal]:
    """Proposals by status, department and topic; merged ones only when asked for."""
    if not is_staff_member(user):
        return Proposal.objects.none()
    qs = _annotated()
    if filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.exclude(status=ProposalStatus.MERGED)
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.topic_id:
        qs = qs.filter(topic_id=filters.topic_id)
    if filters.min_links:
        qs = qs.filter(link_count__gte=filters.min_links)
    order = {
        "links": ["-link_count", "-vote_count", "-created_at"],
        "votes": ["-vote_count", "-link_count", "-created_at"],
    }.get(filters.sort, ["-created_at"])
    return qs.order_by(*order)


def top_of_month(*, user: User, now: datetime | None = None, size: int = 5) -> list[Proposal]:
    """The proposals that gathered the most cases and votes since the 1st of this month."""
    if not is_staff_member(user):
        return []
    now = timezone.localtime(now or timezone.now())
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    qs = (
        Proposal.objects.exclude(status=ProposalStatus.MERGED)
        .select_related("topic")
        .annotate(
            month_links=Count("links", filter=Q(links__created_at__gte=start), distinct=True),
            month_votes=Count("votes", filter=Q(votes__created_at__gte=start), distinct=True),
        )
        .filter(Q(month_links__gt=0) | Q(month_votes__gt=0))
        .order_by("-month_links", "-month_votes", "-created_at")
    )
    return list(qs[:size])


@dataclass(frozen=True)
class LinkedCase:
    link: ProposalLink
    visible: bool  # may the reader open the case (and so see its subject)?


def linked_cases(*, user: User, proposal: Proposal) -> list[LinkedCase]:
    links = list(proposal.links.select_related("case", "case__topic", "user"))
    visible = set(
        Case.objects.filter(
            cases_visible_q(user), pk__in=[link.case_id for link in links]
        ).values_list("pk", flat=True)
    )
    return [LinkedCase(link, link.case_id in visible) for link in links]


def proposal_history(*, proposal: Proposal) -> list[tuple[object, str]]:
    """The events with what each one means, for the history list."""
    from django.utils.translation import gettext as _

    out = []
    for event in proposal.events.select_related("actor"):
        if event.kind == "status" and event.new_status in ProposalStatus.values:
            label = ProposalStatus(event.new_status).label
        else:
            label = {
                "created": _("proposed"),
                "linked": _("case linked"),
                "merged": _("merged"),
            }.get(event.kind, event.kind)
        out.append((event, str(label)))
    return out


def has_voted(*, user: User, proposal: Proposal) -> bool:
    return proposal.votes.filter(user=user).exists()


# --- similar proposals ---------------------------------------------------------------


def analyse(text: str) -> list[str]:
    """The knowledge base's analyser (lemmas, synonyms, stems), so «перевод» meets «переводить»."""
    from otklik.knowledge.text import Analyzer

    return Analyzer().index_terms(text)


def proposal_terms(title: str, problem: str, proposal: str) -> str:
    # The title counts twice: it is what people name the idea by.
    return " ".join(analyse(f"{title}\n{title}\n{problem}\n{proposal}"))


@dataclass(frozen=True)
class Similar:
    proposal: Proposal
    score: float


@dataclass
class _Corpus:
    """Every live proposal's TF-IDF vector and an inverted index, built once per change."""

    key: tuple
    n: int
    df: Counter
    vectors: dict[int, dict[str, float]]
    norms: dict[int, float]
    postings: dict[str, list[int]]


_corpus_cache: dict[str, _Corpus] = {}


def _weight(tf: int, n: int, df: int) -> float:
    return (1 + math.log(tf)) * math.log(1 + n / (1 + df))


def _corpus() -> _Corpus:
    """The corpus, rebuilt only when a proposal was added, changed or merged (the key is
    one aggregate query); a suggestion then touches only the proposals sharing a word."""
    live = Proposal.objects.exclude(status=ProposalStatus.MERGED)
    stats = live.aggregate(n=Count("pk"), last=Max("pk"), changed=Max("updated_at"))
    key = (connection.alias, stats["n"], stats["last"], stats["changed"])
    cached = _corpus_cache.get("corpus")
    if cached is not None and cached.key == key:
        return cached
    docs = {pk: Counter(terms.split()) for pk, terms in live.values_list("pk", "terms") if terms}
    df: Counter = Counter()
    postings: dict[str, list[int]] = {}
    for pk, counts in docs.items():
        df.update(counts.keys())
        for term in counts:
            postings.setdefault(term, []).append(pk)
    n = len(docs)
    vectors = {
        pk: {t: _weight(c, n, df[t]) for t, c in counts.items()} for pk, counts in docs.items()
    }
    norms = {pk: math.sqrt(sum(v * v for v in vec.values())) or 1.0 for pk, vec in vectors.items()}
    corpus = _Corpus(key, n, df, vectors, norms, postings)
    _corpus_cache["corpus"] = corpus
    return corpus


def similar_proposals(
    *, user: User, text: str, exclude_id: int | None = None, limit: int = 5, threshold: float = 0.12
) -> list[Similar]:
    """Existing proposals whose words overlap `text` most (TF-IDF cosine over lemmas).

    Merged proposals are left out (their links live on in the target); declined ones are
    kept, so people see that the idea was already weighed.
    """
    if not is_staff_member(user):
        return []
    query = Counter(analyse(text))
    if not query:
        return []
    corpus = _corpus()
    if not corpus.n:
        return []
    q_vec = {t: _weight(c, corpus.n, corpus.df.get(t, 0)) for t, c in query.items()}
    q_norm = math.sqrt(sum(v * v for v in q_vec.values())) or 1.0
    dots: dict[int, float] = {}
    for term, q_weight in q_vec.items():
        for pk in corpus.postings.get(term, ()):
            dots[pk] = dots.get(pk, 0.0) + q_weight * corpus.vectors[pk][term]
    scored = sorted(
        ((dot / (q_norm * corpus.norms[pk]), pk) for pk, dot in dots.items() if pk != exclude_id),
        reverse=True,
    )
    top = [(score, pk) for score, pk in scored if score >= threshold][:limit]
    by_pk = _annotated().in_bulk([pk for _score, pk in top])
    return [Similar(by_pk[pk], round(score, 3)) for score, pk in top if pk in by_pk]


# --- the case volume on the proposal's topic -----------------------------------------


def effect_topic_ids(proposal: Proposal) -> list[int]:
    """The proposal's topic; without one, the topics of its linked cases."""
    if proposal.topic_id:
        return [proposal.topic_id]
    return sorted(
        {
            t
            for t in proposal.links.values_list("case__topic_id", flat=True).distinct()
            if t is not None
        }
    )


@dataclass(frozen=True)
class WeekCount:
    start: date
    count: int
    after: bool  # on or after the implementation date


@dataclass(frozen=True)
class Volume:
    weeks: list[WeekCount]
    split: date | None
    before_avg: float | None
    after_avg: float | None

    @property
    def change_pct(self) -> float | None:
        if self.before_avg in (None, 0) or self.after_avg is None:
            return None
        return round((self.after_avg - self.before_avg) / self.before_avg * 100, 1)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def topic_volume(
    *, proposal: Proposal, weeks_before: int = 8, weeks_after: int = 8, today: date | None = None
) -> Volume:
    """Cases opened per week on the proposal's topic(s) around the implementation date.

    Before implementation: the last `weeks_before + weeks_after` weeks up to today. After: the
    weeks before the week of implementation and the complete weeks from it (to today).
    """
    today = today or timezone.localdate()
    topic_ids = effect_topic_ids(proposal)
    split = proposal.implemented_on
    if split:
        first = _week_start(split) - timedelta(weeks=weeks_before)
        last = min(_week_start(split) + timedelta(weeks=weeks_after - 1), _week_start(today))
    else:
        last = _week_start(today)
        first = last - timedelta(weeks=weeks_before + weeks_after - 1)
    counts: Counter = Counter()
    if topic_ids:
        tz = timezone.get_current_timezone()
        start_dt = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        end_dt = datetime.combine(last + timedelta(days=7), datetime.min.time(), tzinfo=tz)
        for created in Case.objects.filter(
            topic_id__in=topic_ids, created_at__gte=start_dt, created_at__lt=end_dt
        ).values_list("created_at", flat=True):
            counts[_week_start(timezone.localtime(created, tz).date())] += 1
    weeks = []
    day = first
    while day <= last:
        weeks.append(WeekCount(day, counts.get(day, 0), bool(split and day >= _week_start(split))))
        day += timedelta(weeks=1)
    before = [w.count for w in weeks if not w.after]
    after = [w.count for w in weeks if w.after]
    return Volume(
        weeks=weeks,
        split=split,
        before_avg=round(sum(before) / len(before), 2) if before else None,
        after_avg=round(sum(after) / len(after), 2) if (split and after) else None,
    )
