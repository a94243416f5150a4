"""Files on handoffs: only real PDF/PNG/JPG/TXT/DOCX up to 10 MB; names cannot escape."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from otklik.common.errors import ServiceError
from otklik.handoffs import services
from otklik.handoffs.files import MAX_FILE_BYTES, clean_name
from otklik.handoffs.models import Handoff, HandoffAttachment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The refusals are checked by their English words."""
    with translation.override("en"):
        yield


PDF = b"%PDF-1.7\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _send(staff, case, *files):
    return services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="См. файлы", files=files
    )


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("выписка.pdf", PDF),
        ("screen.PNG", PNG),
        ("photo.jpg", JPG),
        ("photo.jpeg", JPG),
        ("note.txt", "Клиент за границей".encode()),
        ("letter.docx", _docx()),
    ],
)
def test_allowed_types_are_stored_under_media_handoffs(staff, case, name, content):
    handoff = _send(staff, case, SimpleUploadedFile(name, content))
    attachment = handoff.attachments.get()
    assert attachment.size == len(content)
    assert attachment.file.name.startswith(f"handoffs/{handoff.pk}/")
    assert Path(attachment.file.path).read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("virus.exe", b"MZ\x90\x00", "not accepted"),
        ("script.html", b"<script>alert(1)</script>", "not accepted"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "not really"),
        ("fake.png", PDF, "not really"),
        ("fake.docx", b"PK\x03\x04broken", "not really"),
        ("binary.txt", b"\x00\x01\x02", "not really"),
        ("empty.pdf", b"", "empty"),
        ("noextension", PDF, "not accepted"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_saved(staff, case, name, content, says):
    with pytest.raises(ServiceError) as exc:
        _send(staff, case, SimpleUploadedFile("ok.pdf", PDF), SimpleUploadedFile(name, content))
    assert says in exc.value.message_dict["attachments"][0]
    assert not Handoff.objects.exists() and not HandoffAttachment.objects.exists()
    assert _stored_files() == []


def test_too_big_is_refused(staff, case):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * MAX_FILE_BYTES)
    with pytest.raises(ServiceError) as exc:
        _send(staff, case, big)
    assert "10 MB" in exc.value.message_dict["attachments"][0]
    assert _stored_files() == []


def test_path_tricks_are_cleaned(staff, case):
    handoff = _send(staff, case, SimpleUploadedFile("../../etc/passwd.pdf", PDF))
    attachment = handoff.attachments.get()
    assert attachment.name == "passwd.pdf"
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "handoffs")
    assert "passwd" not in stored.name  # the stored name is random


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\op\\скан паспорта.PDF", "скан паспорта.pdf"),
        ("..\\..\\boot.ini.txt", "boot.ini.txt"),
        (".hidden.txt", "hidden.txt"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("<img src=x>.png", "_img src_x_.png"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
        ("", "file"),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_answer_attachments_and_failed_answer_leaves_no_file(staff, case):
    handoff = _send(staff, case)
    with pytest.raises(ServiceError):
        services.handoff_answer(
            actor=staff.sam, handoff=handoff, answer="", files=[SimpleUploadedFile("a.pdf", PDF)]
        )
    assert _stored_files() == []
    services.handoff_answer(
        actor=staff.sam,
        handoff=handoff,
        answer="Справка во вложении",
        files=[SimpleUploadedFile("справка.pdf", PDF)],
    )
    assert handoff.attachments.get().event.kind == "answered"
    assert "справка.pdf" in case.messages.get(author=staff.sam).body
