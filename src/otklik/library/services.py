"""Writes for the story library: mark, redact more, publish, assign, acknowledge.

The original text of a case never reaches a story row: `story_create` builds the text,
redacts it and only then saves. A reviewer can hide more, never bring anything back.
"""

import re
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import Team, User
from otklik.cases.models import Case, Topic
from otklik.chat.models import Conversation
from otklik.clients.models import ProductKind
from otklik.common.errors import NotAllowed, ServiceError
from otklik.library.models import Story, StoryAssignment, StoryKind, StoryStatus
from otklik.library.redaction import (
    case_source_text,
    client_names,
    conversation_source_text,
    redact_for_library,
)
from otklik.library.selectors import can_curate, story_terms
from otklik.live.services import staff_tell

HIDDEN = "[скрыто]"


def _merge_counts(*counts: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


@transaction.atomic
def story_create(
    *,
    actor: User,
    kind: str,
    note: str,
    case: Case | None = None,
    conversation: Conversation | None = None,
    title: str = "",
    hide_amounts: bool = False,
    product_kind: str = "",
    now: datetime | None = None,
) -> Story:
    """A supervisor marks a case or chat as exemplary or a lesson; the copy is redacted here.

    Callers fetch `case`/`conversation` through their selectors (visibility checked).
    """
    if not can_curate(actor):
        raise NotAllowed(_("Only a supervisor adds stories to the library."))
    if kind not in StoryKind.values:
        raise ServiceError({"kind": _("Exemplary or a lesson?")})
    if not (note or "").strip():
        raise ServiceError({"note": _("Say in a few words why this is worth reading.")})
    if product_kind and product_kind not in ProductKind.values:
        raise ServiceError({"product_kind": _("Unknown product.")})
    if case is None and conversation is not None and conversation.case_id:
        case = conversation.case
    with translation.override(settings.LANGUAGE_CODE):  # «Клиент:», «Сотрудник:» labels
        source = case_source_text(case) if case is not None else ""
        if case is None and conversation is not None:
            source = conversation_source_text(conversation)
    if case is not None:
        client, topic = case.client, case.topic
        conversation = None
    elif conversation is not None:
        client = conversation.client
        topic = None
    else:
        raise ServiceError({"source": _("Choose the case or chat to write up.")})
    names = client_names(client)
    body, counts = redact_for_library(source, names=names, amounts=hide_amounts)
    clean_title, t_counts = redact_for_library(
        (title or "").strip() or (case.subject if case else _("Chat")),
        names=names,
        amounts=hide_amounts,
    )
    clean_note, n_counts = redact_for_library(note.strip(), names=names, amounts=hide_amounts)
    story = Story.objects.create(
        title=clean_title[:200],
        kind=kind,
        note=clean_note,
        body=body,
        topic=topic,
        product_kind=product_kind,
        hide_amounts=hide_amounts,
        redactions=_merge_counts(counts, t_counts, n_counts),
        source_case=case,
        source_conversation=conversation,
        created_by=actor,
        terms=story_terms(clean_title, clean_note, body),
        created_at=now or timezone.now(),
    )
    return story


@transaction.atomic
def story_redact_more(
    *,
    actor: User,
    story: Story,
    fragments: list[str],
    title: str | None = None,
    topic: Topic | None = None,
) -> Story:
    """The reviewer hides more: each fragment, wherever it occurs, becomes «[скрыто]»."""
    if not can_curate(actor):
        raise NotAllowed(_("Only a supervisor reviews stories."))
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.status != StoryStatus.DRAFT:
        raise ServiceError({"status": _("Withdraw the story before changing it.")})
    hidden = 0
    for fragment in (f.strip() for f in fragments):
        if len(fragment) < 2:
            continue
        pattern = re.compile(re.escape(fragment), re.IGNORECASE)
        for field in ("title", "note", "body"):
            new, n = pattern.subn(HIDDEN, getattr(story, field))
            setattr(story, field, new)
            hidden += n
    if title is not None and title.strip():
        story.title, _counts = redact_for_library(title.strip()[:200])
    if topic is not None:
        story.topic = topic
    story.redactions = _merge_counts(story.redactions, {"manual": hidden} if hidden else {})
    story.terms = story_terms(story.title, story.note, story.body)
    story.save(update_fields=["title", "note", "body", "topic", "redactions", "terms"])
    return story


@transaction.atomic
def story_publish(*, actor: User, story: Story, now: datetime | None = None) -> Story:
    if not can_curate(actor):
        raise NotAllowed(_("Only a supervisor publishes stories."))
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.status == StoryStatus.PUBLISHED:
        return story
    story.status = StoryStatus.PUBLISHED
    story.published_by = actor
    story.published_at = now or timezone.now()
    story.save(update_fields=["status", "published_by", "published_at"])
    return story


@transaction.atomic
def story_withdraw(*, actor: User, story: Story) -> Story:
    if not can_curate(actor):
        raise NotAllowed(_("Only a supervisor withdraws stories."))
    Story.objects.filter(pk=story.pk).update(status=StoryStatus.DRAFT)
    story.refresh_from_db()
    return story


@transaction.atomic
def story_assign(
    *, actor: User, story: Story, users: list[User] | None = None, team: Team | None = None
) -> int:
    """Ask operators (or a whole team) to read a published story; each is told once."""
    if not can_curate(actor):
        raise NotAllowed(_("Only a supervisor assigns stories."))
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.status != StoryStatus.PUBLISHED:
        raise ServiceError({"story": _("Publish the story before assigning it.")})
    targets = list(users or [])
    if team is not None:
        targets += list(team.members.filter(is_active=True))
    if not targets:
        raise ServiceError({"users": _("Choose whom to assign the story to.")})
    now = timezone.now()
    added = []
    for user in {u.pk: u for u in targets}.values():
        try:
            with transaction.atomic():
                StoryAssignment.objects.create(
                    story=story, user=user, assigned_by=actor, assigned_at=now
                )
        except IntegrityError:
            continue
        added.append(user)
    if added:
        url = reverse("library:detail", args=[story.pk])
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Please read the story «%(title)s»") % {"title": story.title}
        staff_tell(
            users=added,
            kind="library.assigned",
            text=text,
            url=url,
            key=f"story-{story.pk}-{{user}}",
        )
    return len(added)


@transaction.atomic
def story_acknowledge(*, user: User, story: Story) -> StoryAssignment:
    assignment = StoryAssignment.objects.select_for_update().filter(story=story, user=user).first()
    if assignment is None:
        raise ServiceError({"story": _("This story was not assigned to you.")})
    if assignment.acknowledged_at is None:
        assignment.acknowledged_at = timezone.now()
        assignment.save(update_fields=["acknowledged_at"])
    return assignment
