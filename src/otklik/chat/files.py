"""Checking a chat attachment before it is stored: images and PDF only, sniffed, small.

The extension and the first bytes must agree; the visitor's file name is cleaned and kept
for display only (the stored path is random, see `models.attachment_path`).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.handoffs.files import clean_name

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
IMAGE_TYPES = frozenset(t for t in CONTENT_TYPES.values() if t.startswith("image/"))


@dataclass(frozen=True)
class CheckedAttachment:
    name: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def _sniff(ext: str, content: bytes) -> bool:
    if ext == "pdf":
        return content.startswith(b"%PDF-")
    if ext == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return content[:6] in (b"GIF87a", b"GIF89a")
    if ext == "webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return False


def check_attachment(upload, *, field: str = "file") -> CheckedAttachment:
    """Read and check one upload, or refuse it with a message for the visitor."""
    if upload is None:
        raise ServiceError({field: _("Choose a file.")})
    limit = settings.OTKLIK_CHAT_MAX_ATTACHMENT_BYTES
    name = clean_name(getattr(upload, "name", "") or "")
    too_big = _("The file «%(name)s» is larger than %(mb)s MB.") % {
        "name": name,
        "mb": round(limit / 1024 / 1024, 1),
    }
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ServiceError({field: too_big})
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ServiceError({field: too_big})
    if not content:
        raise ServiceError({field: _("The file «%(name)s» is empty.") % {"name": name}})
    _stem, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    if ext not in CONTENT_TYPES:
        raise ServiceError(
            {
                field: _("The file «%(name)s» is not accepted: send an image or a PDF.")
                % {"name": name}
            }
        )
    if not _sniff(ext, content):
        raise ServiceError(
            {
                field: _("The file «%(name)s» is not really a %(type)s file.")
                % {"name": name, "type": ext.upper()}
            }
        )
    return CheckedAttachment(name=name, content_type=CONTENT_TYPES[ext], content=content)
