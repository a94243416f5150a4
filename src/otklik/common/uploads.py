"""Checking an uploaded file before anything is stored, for every app that accepts files.

A file is accepted only if its extension is one the caller allows and its first bytes
agree with it; the name the user's computer gave it is cleaned and kept for display only
(callers store the content under a random path). Each caller chooses the types, the size
limit and the two messages that name them; the checks and the other messages are here.
"""

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from django.http import FileResponse
from django.utils.translation import gettext as _

from otklik.common.errors import ServiceError

MAX_NAME = 120

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
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


def content_types(*extensions: str) -> dict[str, str]:
    """The content types of the given extensions, for a caller's allowed set."""
    return {ext: CONTENT_TYPES[ext] for ext in extensions}


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


def sniff(ext: str, content: bytes) -> bool:
    """Whether the bytes really are what the extension says."""
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


def check_upload(
    upload,
    *,
    field: str,
    allowed: Mapping[str, str],
    max_bytes: int,
    too_big: str,
    not_accepted: str,
) -> CheckedFile:
    """Read and check one upload, or refuse it with a message naming the file.

    `allowed` maps extensions to content types; `too_big` and `not_accepted` are the
    caller's translated messages, formatted with `name` (and `mb`, the limit in MB).
    """
    name = clean_name(getattr(upload, "name", "") or "")
    values = {"name": name, "mb": round(max_bytes / 1024 / 1024, 1)}
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ServiceError({field: too_big % values})
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ServiceError({field: too_big % values})
    if not content:
        raise ServiceError({field: _("The file «%(name)s» is empty.") % {"name": name}})
    _stem, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    if ext not in allowed:
        raise ServiceError({field: not_accepted % values})
    if not sniff(ext, content):
        raise ServiceError(
            {
                field: _("The file «%(name)s» is not really a %(type)s file.")
                % {"name": name, "type": ext.upper()}
            }
        )
    return CheckedFile(name=name, content_type=allowed[ext], content=content)


def file_download(handle, *, name: str, content_type: str, inline: bool) -> FileResponse:
    """A stored file as a response that is never rendered as a page of this site.

    Images may show inline; anything else downloads. The browser is told not to guess the
    type and to run nothing from it, whoever uploaded it.
    """
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
