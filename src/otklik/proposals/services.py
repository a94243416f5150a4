"""Writes for proposals: create, +1 with a case, move through the workflow, merge, measure.

Each write is one atomic function that records a `ProposalEvent` and tells the author and
everyone who linked a case (a live event, and an e-mail where they have an address).
"""

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otklik.accounts.models import Department, User
from otklik.cases.models import Case, Topic
from otklik.cases.selectors import case_visible_to
from otklik.clients.models import ProductKind
from otklik.common.errors import NotAllowed, ServiceError
from otklik.common.links import absolute_url
from otklik.common.redaction import anonymise
from otklik.live.services import publish
from otklik.notifications.services import notify
from otklik.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalLink,
    ProposalStatus,
    ProposalVote,
)
from otklik.proposals.selectors import (
    TRANSITIONS,
    can_merge,
    can_review,
    is_staff_member,
    proposal_terms,
    topic_volume,
)


def _text(
    value: str, field: str, *, required: bool = True, limit: int = 5000, names: tuple = ()
) -> str:
    """Proposals are read by all staff: no client data in them, whatever was typed or
    prefilled from the case (its client's names included)."""
    value, _counts = anonymise((value or "").strip(), names=names)
    if required and not value:
        raise ServiceError({field: _("This field is required.")})
    if len(value) > limit:
        raise ServiceError({field: _("At most %(n)s characters.") % {"n": limit}})
    return value


def _client_names(case: Case | None) -> tuple[str, ...]:
    if case is None:
        return ()
    client = case.client
    return tuple(n for n in (client.last_name, client.first_name, client.patronymic) if n)


def _recipients(proposal: Proposal) -> list[User]:
    ids = {proposal.author_id, *proposal.links.values_list("user_id", flat=True)}
    ids |= set(proposal.votes.values_list("user_id", flat=True))
    ids.discard(None)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _tell(proposal: Proposal, event: ProposalEvent, actor: User | None) -> None:
    """The author and everyone who linked a case or voted learn of the step."""
    recipients = [u for u in _recipients(proposal) if actor is None or u.pk != actor.pk]
    if not recipients:
        return
    url = reverse("proposals:detail", args=[proposal.pk])
    with translation.override(settings.LANGUAGE_CODE):
        if event.kind == "status":
            headline = _("Proposal «%(title)s»: %(status)s") % {
                "title": proposal.title,
                "status": ProposalStatus(event.new_status).label,
            }
        elif event.kind == "merged":
            headline = _("Proposal «%(other)s» was merged into «%(title)s»") % {
                "title": proposal.title,
                "other": event.note,
            }
        else:
            headline = _("Proposal «%(title)s»: a case was linked") % {"title": proposal.title}
        lines = [headline, ""]
        if event.note:
            lines += [event.note, ""]
        lines.append(_("Proposal: %(url)s") % {"url": absolute_url(url)})
    payload = {"proposal_id": proposal.pk, "event": event.kind, "url": url}
    publish(
        user_ids=[u.pk for u in recipients],
        kind=f"proposal.{event.kind}",
        text=headline,
        payload=payload,
    )
    for user in recipients:
        if user.email:
            notify(
                key=f"proposal-{proposal.pk}-{event.pk}-{user.pk}",
                channel="email",
                address=user.email,
                subject=headline,
                body="\n".join(lines),
                user=user,
                payload=payload,
            )


def _event(proposal: Proposal, actor: User | None, kind: str, **values) -> ProposalEvent:
    return ProposalEvent.objects.create(
        proposal=proposal, actor=actor, kind=kind, created_at=timezone.now(), **values
    )


def _check_product(product_kind: str) -> str:
    if product_kind and product_kind not in ProductKind.values:
        raise ServiceError({"product_kind": _("Unknown product.")})
    return product_kind or ""


@transaction.atomic
def proposal_create(
    *,
    actor: User,
    title: str,
    problem: str,
    proposal: str,
    expected_effect: str = "",
    topic: Topic | None = None,
    product_kind: str = "",
    department: Department | None = None,
    case: Case | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Any member of staff proposes; from a case, that case is the first linked one."""
    if not is_staff_member(actor):
        raise NotAllowed(_("Sign in to make a proposal."))
    if case is not None and not case_visible_to(user=actor, case=case):
        raise NotAllowed(_("You cannot see this case."))
    now = now or timezone.now()
    names = _client_names(case)
    title = _text(title, "title", limit=200, names=names)
    problem = _text(problem, "problem", names=names)
    text = _text(proposal, "proposal", names=names)
    row = Proposal.objects.create(
        title=title,
        problem=problem,
        proposal=text,
        expected_effect=_text(expected_effect, "expected_effect", required=False, names=names),
        topic=topic if topic is not None else (case.topic if case is not None else None),
        product_kind=_check_product(product_kind),
        department=department,
        author=actor,
        terms=proposal_terms(title, problem, text),
        created_at=now,
        updated_at=now,
    )
    _event(row, actor, "created", new_status=ProposalStatus.NEW)
    ProposalVote.objects.create(proposal=row, user=actor, created_at=now)
    if case is not None:
        ProposalLink.objects.create(proposal=row, case=case, user=actor, created_at=now)
    return row


@transaction.atomic
def proposal_support(
    *, actor: User, proposal: Proposal, case: Case | None = None, comment: str = ""
) -> ProposalLink | None:
    """«+1», optionally «with my case»: a vote, and the case linked (each at most once)."""
    if not is_staff_member(actor):
        raise NotAllowed(_("Sign in to support a proposal."))
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == ProposalStatus.MERGED:
        raise ServiceError({"proposal": _("This proposal was merged; support the one it went to.")})
    now = timezone.now()
    try:
        with transaction.atomic():
            ProposalVote.objects.create(proposal=proposal, user=actor, created_at=now)
    except IntegrityError:
        pass  # voted before; the case may still be new
    if case is None:
        return None
    if not case_visible_to(user=actor, case=case):
        raise NotAllowed(_("You cannot see this case."))
    if ProposalLink.objects.filter(proposal=proposal, case=case).exists():
        raise ServiceError({"case": _("This case is already linked to the proposal.")})
    link = ProposalLink.objects.create(
        proposal=proposal,
        case=case,
        user=actor,
        comment=_text(comment, "comment", required=False, limit=300, names=_client_names(case)),
        created_at=now,
    )
    event = _event(proposal, actor, "linked", note=case.reference)
    _tell(proposal, event, actor)
    return link


@transaction.atomic
def proposal_transition(
    *,
    actor: User,
    proposal: Proposal,
    to: str,
    reason: str = "",
    implemented_on: date | None = None,
    today: date | None = None,
) -> Proposal:
    """Move a proposal along `TRANSITIONS`; declining needs a reason, implementing a date,
    and measuring stores the before/after weekly case counts on the topic."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not can_review(user=actor, proposal=proposal):
        raise NotAllowed(_("Only an analyst or the owner department reviews proposals."))
    if to not in TRANSITIONS.get(proposal.status, ()):
        raise ServiceError(
            {
                "status": _("A proposal in status «%(status)s» cannot go there.")
                % {"status": proposal.get_status_display()}
            }
        )
    today = today or timezone.localdate()
    fields = ["status", "updated_at"]
    note = ""
    if to == ProposalStatus.DECLINED:
        reason = _text(reason, "reason", limit=2000)
        proposal.decline_reason = reason
        fields.append("decline_reason")
        note = reason
    if to == ProposalStatus.IMPLEMENTED:
        if implemented_on is None:
            raise ServiceError({"implemented_on": _("Give the date it was implemented.")})
        if implemented_on > today:
            raise ServiceError({"implemented_on": _("The date cannot be in the future.")})
        proposal.implemented_on = implemented_on
        fields.append("implemented_on")
        note = implemented_on.isoformat()
    if to == ProposalStatus.MEASURED:
        volume = topic_volume(proposal=proposal, today=today)
        proposal.effect = {
            "measured_on": today.isoformat(),
            "before_avg": volume.before_avg,
            "after_avg": volume.after_avg,
            "change_pct": volume.change_pct,
            "weeks": [[w.start.isoformat(), w.count, w.after] for w in volume.weeks],
        }
        fields.append("effect")
        note = _("Cases a week: %(before)s before, %(after)s after.") % {
            "before": volume.before_avg,
            "after": volume.after_avg,
        }
    old = proposal.status
    proposal.status = to
    proposal.updated_at = timezone.now()
    proposal.save(update_fields=fields)
    event = _event(proposal, actor, "status", old_status=old, new_status=to, note=note)
    _tell(proposal, event, actor)
    return proposal


@transaction.atomic
def proposal_merge(*, actor: User, source: Proposal, target: Proposal) -> Proposal:
    """Fold a duplicate into `target`: its cases and votes move along (once each)."""
    if not can_merge(user=actor):
        raise NotAllowed(_("Only an analyst merges proposals."))
    if source.pk == target.pk:
        raise ServiceError({"target": _("A proposal cannot be merged into itself.")})
    locked = {
        p.pk: p for p in Proposal.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if ProposalStatus.MERGED in (source.status, target.status):
        raise ServiceError({"target": _("A merged proposal cannot be merged again.")})
    have_cases = set(target.links.values_list("case_id", flat=True))
    for link in source.links.all():
        if link.case_id in have_cases:
            link.delete()
        else:
            link.proposal = target
            link.save(update_fields=["proposal"])
    have_voters = set(target.votes.values_list("user_id", flat=True))
    for vote in source.votes.all():
        if vote.user_id in have_voters:
            vote.delete()
        else:
            vote.proposal = target
            vote.save(update_fields=["proposal"])
    old = source.status
    source.status = ProposalStatus.MERGED
    source.merged_into = target
    source.updated_at = timezone.now()
    source.save(update_fields=["status", "merged_into", "updated_at"])
    _event(source, actor, "merged", old_status=old, new_status=source.status, note=target.title)
    event = _event(target, actor, "merged", note=source.title)
    # Everyone who followed the duplicate now follows the target: tell them there.
    _tell(target, event, actor)
    return target
