"""Hand-off to people: the case behind the chat and routing to an operator who accepts chats."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otklik.accounts.models import Role, User
from otklik.cases.models import (
    Case,
    CaseEvent,
    EventKind,
    Interaction,
)
from otklik.cases.services import case_open
from otklik.chat.models import (
    Conversation,
    ConversationStatus,
    OperatorChatSettings,
    SenderKind,
)
from otklik.chat.services.delivery import (
    ACTIVE,
    _push_status,
)
from otklik.chat.services.messages import (
    _append,
    _mirror,
)
from otklik.clients.models import ChannelKind, Client
from otklik.clients.serving import Serving, away_staff, serving_now

# --- hand-off, case and routing ---------------------------------------------------------


def _ensure_case(conversation: Conversation, now: datetime) -> None:
    """Open or continue the case for the chat and mirror the transcript so far."""
    if conversation.case_id is not None:
        return
    if conversation.client_id is None:
        from otklik.clients.services import client_create

        guest = client_create(last_name=_("Chat visitor"), first_name=f"№{conversation.pk}")
        conversation.client, conversation.client_is_guest = guest, True
    topic = conversation.chat_topic.topic if conversation.chat_topic else None
    case = None
    if not conversation.client_is_guest and topic is not None:
        case = (
            Case.objects.filter(client=conversation.client, is_open=True, topic=topic)
            .order_by("-created_at")
            .first()
        )
    first = (
        conversation.messages.filter(sender_kind=SenderKind.VISITOR)
        .exclude(body="")
        .order_by("seq")
        .first()
    )
    if case is None:
        subject = (first.body if first else "") or _("Chat with a client")
        case = case_open(
            actor=None,
            client=conversation.client,
            subject=subject[:120],
            channel=ChannelKind.CHAT,
            topic=topic,
            team=conversation.team,
            now=now,
        )
    interaction = Interaction.objects.create(
        client=conversation.client,
        case=case,
        channel=ChannelKind.CHAT,
        external_ref=f"chat:{conversation.pk}",
        started_at=conversation.created_at,
    )
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.INTERACTION_LINKED,
        field="channel",
        new_value=ChannelKind.CHAT,
        created_at=now,
    )
    conversation.case, conversation.interaction = case, interaction
    Conversation.objects.filter(pk=conversation.pk).update(
        case=case,
        interaction=interaction,
        client=conversation.client,
        client_is_guest=conversation.client_is_guest,
    )
    for message in conversation.messages.filter(case_message=None).order_by("seq"):
        _mirror(conversation, message)


@transaction.atomic
def handoff(*, conversation: Conversation, reason: str, now: datetime | None = None) -> None:
    """Put the chat in the operators' queue with a case and its transcript; route it."""
    now = now or timezone.now()
    changed = Conversation.objects.filter(pk=conversation.pk, status=ConversationStatus.BOT).update(
        status=ConversationStatus.QUEUED, queued_at=now, handoff_reason=reason
    )
    if not changed:
        return
    conversation.status, conversation.queued_at = ConversationStatus.QUEUED, now
    conversation.handoff_reason = reason
    topic = conversation.chat_topic
    if topic is not None and topic.team_id and conversation.team_id is None:
        conversation.team = topic.team
        Conversation.objects.filter(pk=conversation.pk).update(team=topic.team)
    _ensure_case(conversation, now)
    _append(
        conversation,
        sender_kind=SenderKind.SYSTEM,
        body=_("Connecting you with an operator. Please stay in the chat."),
        now=now,
    )
    _push_status(conversation)
    route(conversation=conversation, now=now)


def settings_for(user: User) -> OperatorChatSettings:
    found, _created = OperatorChatSettings.objects.get_or_create(
        user=user, defaults={"capacity": settings.OTKLIK_CHAT_DEFAULT_CAPACITY}
    )
    return found


def active_load(user_id: int) -> int:
    return Conversation.objects.filter(operator_id=user_id, status__in=ACTIVE).count()


def _eligible_operators(conversation: Conversation) -> list[OperatorChatSettings]:
    """Accepting operators with spare capacity, skilled ones first, least loaded first."""
    candidates = (
        OperatorChatSettings.objects.filter(
            accepting=True,
            user__is_active=True,
            user__role__in=[Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER],
        )
        .select_related("user")
        .annotate(
            load=Count("user__chats", filter=Q(user__chats__status__in=ACTIVE), distinct=True),
            skills=Count("topics", distinct=True),
        )
    )
    if conversation.team_id:
        candidates = candidates.filter(user__team_id=conversation.team_id)
    rows = [c for c in candidates if c.load < c.capacity]
    topic_id = conversation.chat_topic_id
    if topic_id is not None:
        skilled_ids = set(
            OperatorChatSettings.topics.through.objects.filter(chattopic_id=topic_id).values_list(
                "operatorchatsettings_id", flat=True
            )
        )
        skilled = [c for c in rows if c.pk in skilled_ids]
        rows = skilled or [c for c in rows if c.skills == 0]
    else:
        rows = [c for c in rows if c.skills == 0] or rows
    epoch = timezone.make_aware(datetime(2000, 1, 1))
    rows.sort(key=lambda c: (c.load / c.capacity, c.last_assigned_at or epoch, c.pk))
    return rows


def _assign(
    conversation: Conversation,
    operator: User,
    now: datetime,
    previous: User | None = None,
    serving: Serving | None = None,
) -> bool:
    """Give the queued chat to `operator` if it is still queued and they have room.

    The operator's settings row is locked so two assignments cannot both pass the
    capacity check; the conditional update on status stops a double take of one chat.
    """
    own = OperatorChatSettings.objects.select_for_update().filter(user=operator).first()
    capacity = own.capacity if own else settings.OTKLIK_CHAT_DEFAULT_CAPACITY
    if active_load(operator.pk) >= capacity:
        return False
    changed = Conversation.objects.filter(
        pk=conversation.pk, status=ConversationStatus.QUEUED
    ).update(status=ConversationStatus.ASSIGNED, operator=operator, assigned_at=now)
    if not changed:
        return False
    OperatorChatSettings.objects.filter(user=operator).update(last_assigned_at=now)
    conversation.status, conversation.operator, conversation.assigned_at = (
        ConversationStatus.ASSIGNED,
        operator,
        now,
    )
    if conversation.interaction_id:
        Interaction.objects.filter(pk=conversation.interaction_id, operator=None).update(
            operator=operator
        )
    if conversation.case_id:
        # The chat's operator owns its case (unless someone else already does).
        Case.objects.filter(Q(owner=None) | Q(owner=previous), pk=conversation.case_id).update(
            owner=operator
        )
    if serving is not None and serving.standing_in:
        joined = _(
            "%(name)s joined the chat, standing in for your personal manager "
            "%(manager)s until %(until)s."
        ) % {
            "name": operator.display_name,
            "manager": serving.manager.display_name,
            "until": date_format(serving.until, "j E"),
        }
    else:
        joined = _("%(name)s joined the chat.") % {"name": operator.display_name}
    _append(conversation, sender_kind=SenderKind.SYSTEM, body=joined, now=now)
    _push_status(conversation)
    from otklik.live.services import publish

    publish(
        user_ids=[operator.pk],
        kind="chat_assigned",
        text=_("A chat is yours: %(chat)s") % {"chat": conversation},
        case=conversation.case,
        payload={"conversation": conversation.pk},
    )
    return True


def _serving(conversation: Conversation, now: datetime) -> Serving | None:
    """Who serves the chat's client today: his personal manager, or the deputy standing
    in while the manager is away (`clients.serving`); None for a guest or a mass client."""
    if conversation.client_id is None or conversation.client_is_guest:
        return None
    client = Client.objects.select_related("personal_manager").get(pk=conversation.client_id)
    return serving_now(client=client, day=timezone.localdate(now))


def _takes_chats(user: User) -> bool:
    return (
        user.is_active and OperatorChatSettings.objects.filter(user=user, accepting=True).exists()
    )


@transaction.atomic
def route(*, conversation: Conversation, now: datetime | None = None) -> User | None:
    """Assign a queued chat: a personal client's to whoever serves him now (his manager,
    or the deputy while the manager is away) if that person accepts chats and has room;
    otherwise, and for everybody else, to the best eligible operator with room. Staff
    who are away get no new chats."""
    now = now or timezone.now()
    if conversation.status != ConversationStatus.QUEUED:
        return None
    away = away_staff(day=timezone.localdate(now))
    serving = _serving(conversation, now)
    if (
        serving is not None
        and serving.acting.pk not in away
        and _takes_chats(serving.acting)
        and _assign(conversation, serving.acting, now, serving=serving)
    ):
        return serving.acting
    for candidate in _eligible_operators(conversation):
        if candidate.user_id not in away and _assign(conversation, candidate.user, now):
            return candidate.user
    return None


def route_waiting(*, now: datetime | None = None) -> int:
    """Offer every waiting chat (oldest first) to operators with room; returns how many."""
    assigned = 0
    for conversation in Conversation.objects.filter(status=ConversationStatus.QUEUED).order_by(
        "queued_at", "pk"
    )[:200]:
        if route(conversation=conversation, now=now):
            assigned += 1
    return assigned
