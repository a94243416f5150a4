"""Reading a raw e-mail: addresses, threading ids, the text (plain preferred), sanitised
HTML, the quoted history folded off, attachments and inline images, and whether it is
noise (an auto-reply or a delivery report) that must never open a case or be answered.

Pure functions over bytes: no database, so every rule here is tested on real messages.
"""

import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import nh3

MAX_ID = 250

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_IDS = re.compile(r"<([^<>\s]+)>")
_QUOTE_START = [
    re.compile(r"^\s*>"),
    re.compile(r"^\s*-{2,}\s*(Original Message|Исходное сообщение|Пересылаемое сообщение)", re.I),
    re.compile(r"^\s*On .{4,200}\bwrote:\s*$", re.I),
    re.compile(r"^.{4,200}\b(пишет|написал|написала|написал\(а\)):\s*$", re.I),
    re.compile(r"^\s*(From|От|Отправлено|Sent):\s.+$", re.I),
]
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


@dataclass
class ParsedAttachment:
    name: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_address: str
    from_name: str
    to_addresses: list[str]
    subject: str
    text: str
    quoted: str
    html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    noise: str = ""  # "", "auto_reply" or "bounce"
    bounced_message_id: str = ""
    bounce_diagnostic: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Ids this message answers, nearest first: In-Reply-To, then References backwards."""
        seen: list[str] = []
        for value in [*self.in_reply_to, *reversed(self.references)]:
            if value not in seen:
                seen.append(value)
        return seen


def ids(value: str | None) -> list[str]:
    """The message ids in a header value, without angle brackets."""
    return [found[:MAX_ID] for found in _IDS.findall(str(value or ""))]


def one_id(value: str | None) -> str:
    found = ids(value)
    if found:
        return found[0]
    return str(value or "").strip().strip("<>")[:MAX_ID]


def sanitise_html(raw: str) -> str:
    """Only harmless markup; links open safely; images only from the message itself
    (cid:), so no remote image can tell the sender that the mail was read."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and not value.lower().startswith("cid:"):
            return None
        return value

    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=keep,
    )


def sanitise_for_display(raw: str, *, image_prefix: str) -> str:
    """Stored HTML whose cid: images were pointed at our file view: sanitised again so
    that only images under `image_prefix` (our own URLs) survive."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and not value.startswith(image_prefix):
            return None
        return value

    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=keep,
    )


def html_to_text(raw: str) -> str:
    """Readable text from HTML mail (when no plain part came)."""
    marked = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|blockquote)\s*>", "\n", raw)
    marked = re.sub(r"(?i)<blockquote[^>]*>", "\n> ", marked)
    text = html_lib.unescape(nh3.clean(marked, tags=set()))
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fold_quoted(text: str) -> tuple[str, str]:
    """(the new text, the quoted history under it). A reply that is only a quote keeps
    everything as its text, so nothing the client wrote is hidden."""
    lines = text.replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _QUOTE_START):
            head = "\n".join(lines[:number]).strip()
            if head:
                return head, "\n".join(lines[number:]).strip()
            break
    return text.strip(), ""


def _noise(message: EmailMessage, from_address: str) -> str:
    content_type = message.get_content_type()
    report = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report == "delivery-status":
        return "bounce"
    if from_address.startswith(_BOUNCE_SENDERS) or str(message.get("Return-Path", "")) == "<>":
        return "bounce"
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto_reply"
    if str(message.get("Precedence", "") or "").strip().lower() in _AUTO_PRECEDENCE:
        return "auto_reply"
    return ""


def _bounce_details(message: EmailMessage) -> tuple[str, str]:
    """The Message-ID of the mail that failed and the server's reason, from a DSN."""
    original, diagnostic = "", ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload() or []:
                for key in ("Diagnostic-Code", "Status"):
                    if block.get(key) and not diagnostic:
                        diagnostic = str(block.get(key)).strip()
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original:
            if content_type == "message/rfc822":
                inner = part.get_payload()[0]
                original = one_id(inner.get("Message-ID"))
            else:
                headers = BytesParser(policy=policy.default).parsebytes(
                    part.get_payload(decode=True) or b"", headersonly=True
                )
                original = one_id(headers.get("Message-ID"))
    return original, diagnostic[:500]


def _attachments(message: EmailMessage, body_parts: set[int]) -> list[ParsedAttachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        content_type = part.get_content_type()
        if content_type.startswith("message/") or content_type.startswith("multipart/"):
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename() or ""
        cid = one_id(part.get("Content-ID")) if part.get("Content-ID") else ""
        if content_type in ("text/plain", "text/html") and not name and disposition is None:
            continue  # an alternative body, not a file
        payload = part.get_payload(decode=True) or b""
        if not name:
            name = f"image.{part.get_content_subtype()}" if cid else "attachment.bin"
        inline = bool(cid) and disposition != "attachment"
        found.append(ParsedAttachment(name=name, content=payload, content_id=cid, inline=inline))
    return found


def parse(raw: bytes) -> ParsedMail:
    """Everything the desk needs from one raw message."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = parseaddr(str(message.get("From", "")))
    from_address = from_address.strip().lower()
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    body_parts = {id(p) for p in (plain, rich) if p is not None}
    html = sanitise_html(rich.get_content()) if rich is not None else ""
    if plain is not None:
        text = plain.get_content()
    elif rich is not None:
        text = html_to_text(rich.get_content())
    else:
        text = ""
    text, quoted = fold_quoted(text)
    noise = _noise(message, from_address)
    bounced, diagnostic = _bounce_details(message) if noise == "bounce" else ("", "")
    return ParsedMail(
        message_id=one_id(message.get("Message-ID")),
        in_reply_to=ids(message.get("In-Reply-To")),
        references=ids(message.get("References")),
        from_address=from_address,
        from_name=from_name.strip()[:200],
        to_addresses=[
            addr.lower()
            for _name, addr in getaddresses(
                [str(v) for v in (message.get_all("To") or []) + (message.get_all("Cc") or [])]
            )
            if addr
        ],
        subject=" ".join(str(message.get("Subject", "") or "").split())[:300],
        text=text,
        quoted=quoted,
        html=html,
        attachments=_attachments(message, body_parts),
        noise=noise,
        bounced_message_id=bounced,
        bounce_diagnostic=diagnostic,
    )
