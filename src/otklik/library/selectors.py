"""Reads for the story library: who sees which story, search by topic, product and words.

Published stories are for every member of staff (they hold no personal data). Drafts, which
wait for review, only for supervisors and admins, who mark and publish stories.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from otklik.accounts.models import User
from otklik.library.models import Story, StoryAssignment, StoryStatus


def can_curate(user: User) -> bool:
    """Mark cases as stories, review, publish, assign: supervisors and admins."""
    return bool(user.is_authenticated and user.is_active and user.sees_everything)


def stories_visible_q(user: User) -> Q:
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if can_curate(user):
        return Q()
    return Q(status=StoryStatus.PUBLISHED)


def story_get_for_user(*, user: User, story_id: int) -> Story:
    story = (
        Story.objects.filter(stories_visible_q(user), pk=story_id).select_related("topic").first()
    )
    if story is None:
        raise Http404
    return story


def story_terms(*parts: str) -> str:
    from otklik.knowledge.text import Analyzer

    return " ".join(Analyzer().index_terms("\n".join(parts)))


def story_search(
    *,
    user: User,
    query: str = "",
    topic_id: int | None = None,
    product_kind: str = "",
    status: str = "",
) -> QuerySet[Story]:
    """Stories by topic and product; with words, those holding every word (lemmas)."""
    qs = Story.objects.filter(stories_visible_q(user)).select_related("topic")
    if status:
        qs = qs.filter(status=status)
    if topic_id:
        qs = qs.filter(topic_id=topic_id)
    if product_kind:
        qs = qs.filter(product_kind=product_kind)
    if query.strip():
        from otklik.knowledge.text import Analyzer

        for term in dict.fromkeys(Analyzer.lemmas(query)):
            qs = qs.filter(terms__regex=rf"(^| ){term}( |$)") if term.isalnum() else qs
    return qs


def assignments_for(*, user: User) -> QuerySet[StoryAssignment]:
    return StoryAssignment.objects.filter(
        user=user, story__status=StoryStatus.PUBLISHED
    ).select_related("story")


def assignment_of(*, user: User, story: Story) -> StoryAssignment | None:
    return StoryAssignment.objects.filter(user=user, story=story).first()


def assignment_progress(*, story: Story) -> list[StoryAssignment]:
    return list(story.assignments.select_related("user").order_by("user__last_name"))
