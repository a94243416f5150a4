"""Checking a chat attachment before it is stored: images and PDF only, sniffed, small.

The checks themselves are shared with handoffs (`common/uploads.py`); the stored path is
random, see `models.attachment_path`.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.common.uploads import CheckedFile, check_upload, content_types

CONTENT_TYPES = content_types("pdf", "png", "jpg", "jpeg", "gif", "webp")
IMAGE_TYPES = frozenset(t for t in CONTENT_TYPES.values() if t.startswith("image/"))

CheckedAttachment = CheckedFile  # the name the chat code has always used


def check_attachment(upload, *, field: str = "file") -> CheckedAttachment:
    """Read and check one upload, or refuse it with a message for the visitor."""
    if upload is None:
        raise ServiceError({field: _("Choose a file.")})
    return check_upload(
        upload,
        field=field,
        allowed=CONTENT_TYPES,
        max_bytes=settings.OTKLIK_CHAT_MAX_ATTACHMENT_BYTES,
        too_big=_("The file «%(name)s» is larger than %(mb)s MB."),
        not_accepted=_("The file «%(name)s» is not accepted: send an image or a PDF."),
    )
