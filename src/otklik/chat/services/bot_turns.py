"""The bot's turn in a chat: answer from the knowledge base or hand off; the feedback."""

from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from otklik.chat import bot
from otklik.chat.models import (
    BotDecision,
    BotDecisionKind,
    ChatMessage,
    Conversation,
    ConversationStatus,
    SenderKind,
)
from otklik.chat.services.messages import (
    _append,
)
from otklik.chat.services.routing import (
    handoff,
)
from otklik.common.errors import ServiceError

# --- the bot ----------------------------------------------------------------------------


def _article_url(slug: str) -> str:
    try:
        return reverse("faq:article", kwargs={"slug": slug})
    except NoReverseMatch:
        return f"/faq/{slug}/"


def _answer_text(hit) -> str:
    from otklik.knowledge.models import Article

    article = Article.objects.select_related("published_version").filter(pk=hit.article_id).first()
    version = article.published_version if article else None
    if version is not None and version.steps:
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(version.steps[:6], 1))
        return f"{hit.title}\n{steps}"
    return f"{hit.title}\n{strip_tags(str(hit.snippet_html)).strip()}"


def bot_respond(*, conversation: Conversation, message: ChatMessage) -> BotDecision:
    """Decide, log the decision, and answer or hand off."""
    decision = bot.decide(conversation, message.body)
    now = timezone.now()
    if decision.chat_topic is not None and conversation.chat_topic_id is None:
        conversation.chat_topic = decision.chat_topic
        Conversation.objects.filter(pk=conversation.pk).update(chat_topic=decision.chat_topic)
    top = decision.hits[0] if decision.hits else None
    logged = BotDecision.objects.create(
        conversation=conversation,
        message=message,
        query=message.body,
        candidates=decision.candidates,
        top_score=decision.top_score,
        decision=decision.kind,
        reason=decision.reason,
        article_slug=top.slug if top and not decision.hands_off else "",
        created_at=now,
    )
    if decision.hands_off:
        handoff(conversation=conversation, reason=decision.kind, now=now)
        return logged
    payload = {
        "kind": decision.kind,
        "decision": logged.pk,
        "article": {"slug": top.slug, "title": top.title, "url": _article_url(top.slug)},
        "buttons": ["helpful", "unhelpful", "operator"],
    }
    body = _answer_text(top)
    if decision.kind == BotDecisionKind.ALTERNATIVES:
        payload["alternatives"] = [
            {"slug": h.slug, "title": h.title, "url": _article_url(h.slug)}
            for h in decision.hits[1 : 1 + bot.MAX_ALTERNATIVES]
        ]
        body = _("Perhaps this is it:") + "\n" + body
    _append(conversation, sender_kind=SenderKind.BOT, body=body, payload=payload, now=now)
    return logged


@transaction.atomic
def bot_feedback(*, conversation: Conversation, decision_id: int, helpful: bool) -> BotDecision:
    """«Помогло?» — the second "no" in a chat hands it to a person."""
    decision = BotDecision.objects.filter(pk=decision_id, conversation=conversation).first()
    if decision is None:
        raise ServiceError({"decision": _("Unknown answer.")})
    if decision.helpful is not None:
        return decision
    BotDecision.objects.filter(pk=decision.pk).update(helpful=helpful)
    decision.helpful = helpful
    if conversation.status != ConversationStatus.BOT:
        return decision
    if helpful:
        _append(conversation, sender_kind=SenderKind.BOT, body=_("Glad it helped!"))
        return decision
    Conversation.objects.filter(pk=conversation.pk).update(unhelpful_count=F("unhelpful_count") + 1)
    conversation.refresh_from_db(fields=["unhelpful_count"])
    if conversation.unhelpful_count >= bot.UNHELPFUL_LIMIT:
        BotDecision.objects.create(
            conversation=conversation,
            query=decision.query,
            candidates=decision.candidates,
            top_score=decision.top_score,
            decision=BotDecisionKind.HANDOFF_UNHELPFUL,
            reason=f"{conversation.unhelpful_count} unhelpful answers",
            created_at=timezone.now(),
        )
        handoff(conversation=conversation, reason=BotDecisionKind.HANDOFF_UNHELPFUL)
    else:
        _append(
            conversation,
            sender_kind=SenderKind.BOT,
            body=_("Sorry. Try to put it differently, or write «operator»."),
        )
    return decision
