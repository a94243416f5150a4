"""Checking files attached to handoffs before anything is stored.

A file is accepted only if its extension and its first bytes agree on one of the allowed
types; the name the user's computer gave it is cleaned and kept for display only (the
stored path is random, see `models.attachment_path`).
"""

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
MAX_NAME = 120

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "txt": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

_UNSAFE = re.compile(r"[^\w\-. ()\[\]]+", re.UNICODE)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its clean name, type and content."""

    name: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def clean_name(raw: str) -> str:
    """The last path component without control characters, unsafe signs or leading dots.

    "../../etc/passwd.pdf" → "passwd.pdf"; "C:\\Users\\x\\скан.pdf" → "скан.pdf".
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[: MAX_NAME - len(ext) - 1] or "file"
    return f"{stem}.{ext.lower()}" if ext else stem


def _sniff(ext: str, content: bytes) -> bool:
    """Whether the bytes really are what the extension says."""
    if ext == "pdf":
        return content.startswith(b"%PDF-")
    if ext == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if ext == "docx":
        if not content.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return "word/document.xml" in archive.namelist()
        except zipfile.BadZipFile:
            return False
    if ext == "txt":
        if b"\x00" in content:
            return False
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return False


def check_uploads(files, *, field: str = "attachments") -> list[CheckedFile]:
    """Read and check every upload; refuse them all with one message if any is bad."""
    files = [f for f in (files or []) if f is not None]
    if len(files) > MAX_FILES:
        raise ServiceError({field: _("Attach at most %(n)s files.") % {"n": MAX_FILES}})
    checked: list[CheckedFile] = []
    for upload in files:
        name = clean_name(getattr(upload, "name", "") or "")
        size = getattr(upload, "size", None)
        if size is not None and size > MAX_FILE_BYTES:
            raise ServiceError({field: _too_big(name)})
        content = upload.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise ServiceError({field: _too_big(name)})
        if not content:
            raise ServiceError({field: _("The file «%(name)s» is empty.") % {"name": name}})
        _stem, dot, ext = name.rpartition(".")
        ext = ext.lower() if dot else ""
        if ext not in CONTENT_TYPES:
            raise ServiceError(
                {
                    field: _(
                        "The file «%(name)s» is not accepted: attach PDF, PNG, JPG, TXT or DOCX."
                    )
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
        checked.append(CheckedFile(name=name, content_type=CONTENT_TYPES[ext], content=content))
    return checked


def _too_big(name: str) -> str:
    return _("The file «%(name)s» is larger than 10 MB.") % {"name": name}
