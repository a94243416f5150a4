"""Checking files attached to handoffs before anything is stored.

The checks themselves are shared with the chat (`common/uploads.py`); the stored path is
random, see `models.attachment_path`.
"""

from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError
from otklik.common.uploads import MAX_NAME, CheckedFile, check_upload, clean_name, content_types

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5

CONTENT_TYPES = content_types("pdf", "png", "jpg", "jpeg", "txt", "docx")

__all__ = ["MAX_NAME", "CheckedFile", "check_uploads", "clean_name"]


def check_uploads(files, *, field: str = "attachments") -> list[CheckedFile]:
    """Read and check every upload; refuse them all with one message if any is bad."""
    files = [f for f in (files or []) if f is not None]
    if len(files) > MAX_FILES:
        raise ServiceError({field: _("Attach at most %(n)s files.") % {"n": MAX_FILES}})
    return [
        check_upload(
            upload,
            field=field,
            allowed=CONTENT_TYPES,
            max_bytes=MAX_FILE_BYTES,
            too_big=_("The file «%(name)s» is larger than 10 MB."),
            not_accepted=_(
                "The file «%(name)s» is not accepted: attach PDF, PNG, JPG, TXT or DOCX."
            ),
        )
        for upload in files
    ]
