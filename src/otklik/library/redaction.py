"""The library's copy of a case: assembled from the source and redacted before it is stored.

`common.redaction.anonymise` hides identifiers, phones, e-mails, addresses, amounts (if
asked) and the client's own names in any case form. Here we add the names the client record
does not know (a relative, a courier named in a chat): capitalised words the Russian
morphology analyser takes for a first name, surname or patronymic.
"""

import re

from otklik.cases.models import Case, MessageVisibility
from otklik.chat.models import ChatMessage, Conversation
from otklik.common.redaction import PLACEHOLDERS, anonymise

_WORD = re.compile(r"[А-ЯЁ][а-яё]+")
_NAME_TAGS = ("Name", "Surn", "Patr")


def _looks_like_name(word: str) -> bool:
    from otklik.knowledge.text import morph

    for parse in morph().parse(word.lower())[:2]:
        if parse.score >= 0.3 and any(tag in parse.tag for tag in _NAME_TAGS):
            return True
    return False


def hide_other_names(text: str) -> tuple[str, int]:
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        if _looks_like_name(match.group(0)):
            count += 1
            return PLACEHOLDERS["name"]
        return match.group(0)

    return _WORD.sub(swap, text), count


def redact_for_library(
    text: str, *, names: tuple[str, ...] = (), amounts: bool = False
) -> tuple[str, dict[str, int]]:
    """Everything personal in `text` replaced by placeholders, with counts per kind."""
    text, counts = anonymise(text, names=names, amounts=amounts)
    text, extra = hide_other_names(text)
    if extra:
        counts["name"] = counts.get("name", 0) + extra
    return text, counts


def client_names(client) -> tuple[str, ...]:
    if client is None:
        return ()
    return tuple(
        n for n in (client.last_name, client.first_name, client.patronymic, client.address_as) if n
    )


def case_source_text(case: Case) -> str:
    """The case as a reader needs it: subject, call summaries, the client's and staff replies."""
    lines = [case.subject, ""]
    for call in case.interactions.exclude(summary="").order_by("started_at"):
        lines.append(f"[{call.get_channel_display()}] {call.summary}")
    for message in case.messages.filter(visibility=MessageVisibility.PUBLIC).order_by(
        "created_at", "pk"
    ):
        lines.append(f"{message.get_author_kind_display()}: {message.body}")
    return "\n".join(lines)


def conversation_source_text(conversation: Conversation) -> str:
    lines = []
    for message in ChatMessage.objects.filter(conversation=conversation, internal=False).order_by(
        "seq"
    ):
        if message.body:
            lines.append(f"{message.get_sender_kind_display()}: {message.body}")
    return "\n".join(lines)
