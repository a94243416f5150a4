"""Client e-mails as a mail program would send them (built with the standard library)."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client_mail(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    in_reply_to: str = "",
    references: str = "",
    headers: dict | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    inline_png: bool = False,
) -> tuple[bytes, str]:
    """(raw bytes, Message-ID without brackets)."""
    message = EmailMessage()
    message["From"] = f"Иван Петров <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message_id = make_msgid(domain="mail.test")
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
        if inline_png:
            message.get_payload()[1].add_related(PNG, "image", "png", cid="<logo@mail.test>")
    for name, mime, content in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(), message_id.strip("<>")
