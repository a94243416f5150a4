"""The chat bot's decision: answer from client-facing articles, offer options, or hand off.

`decide` only reads; `services.visitor_post` stores the decision (query, candidates with
scores, decision, reason) and acts on it, so every answer the bot gives or refuses can be
explained to an editor afterwards.

Rules, in order:
1. the visitor asks for a person («оператор», «человек», «позовите специалиста»…) → hand off;
2. the text matches a human-only chat topic → hand off;
3. nothing client-facing scores at least OTKLIK_CHAT_BOT_MIN_SCORE → hand off (low confidence);
4. the top article scores at least OTKLIK_CHAT_BOT_ANSWER_SCORE and is clearly ahead
   (CLEAR_LEAD × the second) → answer with it;
5. otherwise → the top article plus up to two alternatives to choose from.
Scores are the hybrid search's probability that an article is the right one (knowledge/
fusion.py), so the thresholds were fitted on in-scope and out-of-scope questions (issue 11):
a weak match is never a confident answer. Any language the search embeds (English too) gets
an answer, choices or a hand-off like Russian does.
Two "did not help" answers in one chat hand it off as well (see `services.bot_feedback`).
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

from otklik.chat.models import BotDecisionKind, ChatTopic, Conversation
from otklik.knowledge.search import Hit
from otklik.knowledge.selectors import search_articles

CLEAR_LEAD = 1.35
MAX_ALTERNATIVES = 2
MAX_CANDIDATES = 5
UNHELPFUL_LIMIT = 2

# A request for a human, in the ways clients write it. Matched on whole lower-case words.
_PERSON = re.compile(
    r"\b(оператор\w*|человек\w*|живо\w* (?:человек\w*|сотрудник\w*)|специалист\w*|"
    r"сотрудник\w*|консультант\w*|менеджер\w*|позовит\w*|соедини\w*|переключи\w*)\b",
    re.IGNORECASE,
)


@dataclass
class Decision:
    kind: str
    reason: str
    candidates: list[dict] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    chat_topic: ChatTopic | None = None

    @property
    def top_score(self) -> float:
        return self.candidates[0]["score"] if self.candidates else 0.0

    @property
    def hands_off(self) -> bool:
        return self.kind.startswith("handoff")


def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(text or ""))


def match_topic(text: str) -> ChatTopic | None:
    """The first chat topic one of whose keywords occurs in the text (lower case)."""
    lowered = (text or "").lower()
    for topic in ChatTopic.objects.all():
        if any(k in lowered for k in topic.keyword_list):
            return topic
    return None


def _candidate(hit: Hit) -> dict:
    return {
        "slug": hit.slug,
        "title": hit.title,
        "score": round(hit.score, 4),
        "explain": hit.explain,
    }


def decide(conversation: Conversation, text: str) -> Decision:
    """What the bot should do with the visitor's message `text`."""
    topic = match_topic(text) or conversation.chat_topic
    if asks_for_person(text):
        return Decision(
            BotDecisionKind.HANDOFF_REQUEST, "the client asked for a person", chat_topic=topic
        )
    if topic is not None and topic.human_only:
        return Decision(
            BotDecisionKind.HANDOFF_TOPIC,
            f"topic «{topic.name}» is human-only",
            chat_topic=topic,
        )
    result = search_articles(user=None, query=text, limit=MAX_CANDIDATES, audience="client")
    hits = result.hits
    candidates = [_candidate(h) for h in hits]
    minimum = settings.OTKLIK_CHAT_BOT_MIN_SCORE
    if not hits or hits[0].score < minimum:
        top = hits[0].score if hits else 0.0
        return Decision(
            BotDecisionKind.HANDOFF_LOW_CONFIDENCE,
            f"top score {top:.2f} < {minimum:.2f}",
            candidates,
            hits,
            topic,
        )
    confident = hits[0].score >= settings.OTKLIK_CHAT_BOT_ANSWER_SCORE
    if confident and (len(hits) == 1 or hits[0].score >= CLEAR_LEAD * hits[1].score):
        second = hits[1].score if len(hits) > 1 else 0.0
        return Decision(
            BotDecisionKind.ANSWER,
            f"top {hits[0].score:.2f} clearly ahead of {second:.2f}",
            candidates,
            hits,
            topic,
        )
    second = hits[1].score if len(hits) > 1 else 0.0
    return Decision(
        BotDecisionKind.ALTERNATIVES,
        f"top {hits[0].score:.2f} close to {second:.2f}"
        if confident
        else f"top {hits[0].score:.2f} below the answer threshold "
        f"{settings.OTKLIK_CHAT_BOT_ANSWER_SCORE:.2f}",
        candidates,
        hits,
        topic,
    )
