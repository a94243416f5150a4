"""No public key, no derived secrets: production refuses to start without its own secrets.

Settings are loaded in a subprocess with a controlled environment and an empty var/, the
way a fresh deployment would start.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from otklik.chat.models import ChatMessage
from otklik.chat.selectors import FILE_SALT
from otklik.common.secrets import INSTALL_SECRETS

#: The development key this repository used to fall back to: public, so worthless.
PUBLIC_DEVELOPMENT_KEY = "otklik-insecure-development-key-change-me"
PROJECT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LOAD_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECRET_KEY); print(s.OTKLIK_BACKOFFICE_SECRET)"
)


def _start(tmp_path: Path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(tuple(INSTALL_SECRETS)) and k != "DEBUG"
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="otklik.settings",
        OTKLIK_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(PROJECT / "src"),  # this tree, not whichever one is installed
        **env,
    )
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", LOAD_SETTINGS],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    started = _start(tmp_path, DEBUG="0")
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr
    assert PUBLIC_DEVELOPMENT_KEY not in started.stdout


def test_no_secret_is_derived_from_the_key(tmp_path):
    """The back-office HMAC secret used to be sha256(SECRET_KEY + ...): now its own setting."""
    started = _start(tmp_path, DEBUG="0", SECRET_KEY="k" * 20 + "real-key-of-this-bank-0123456789")
    assert started.returncode != 0
    assert "OTKLIK_BACKOFFICE_SECRET is not set" in started.stderr


def test_production_refuses_to_start_without_the_outbox_and_totp_keys(tmp_path):
    started = _start(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="k" * 20 + "real-key-of-this-bank-0123456789",
        OTKLIK_BACKOFFICE_SECRET="bo-secret",
    )
    assert started.returncode != 0
    assert "OTKLIK_OUTBOX_SECRET_KEY is not set" in started.stderr


def test_production_starts_with_its_secrets_from_the_environment_or_files(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-mounted-secret-file-0123456789-abcdefghijklmnop\n")
    started = _start(
        tmp_path,
        DEBUG="0",
        SECRET_KEY_FILE=str(key_file),
        OTKLIK_BACKOFFICE_SECRET="bo-secret",
        OTKLIK_OUTBOX_SECRET_KEY="outbox-key",
        OTKLIK_TOTP_SECRET_KEY="totp-key",
        OTKLIK_MAIL_SECRET_KEY="mail-key",
        OTKLIK_CTI_SECRET="cti-secret",
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [key_file.read_text().strip(), "bo-secret"]


def test_development_creates_random_per_install_secret_files_readable_by_owner_only(tmp_path):
    first = _start(tmp_path, DEBUG="1")
    assert first.returncode == 0, first.stderr
    files = {name: tmp_path / "var" / spec[0] for name, spec in INSTALL_SECRETS.items()}
    for path in files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    key, backoffice = first.stdout.split()
    assert key == files["SECRET_KEY"].read_text().strip() and len(key) >= 50
    assert key != PUBLIC_DEVELOPMENT_KEY and backoffice != key
    assert _start(tmp_path, DEBUG="1").stdout == first.stdout  # kept, not regenerated
    other = tmp_path / "other"
    other.mkdir()
    assert _start(other, DEBUG="1").stdout.split()[0] != key  # per install


def test_make_run_helper_creates_the_files(tmp_path):
    var = tmp_path / "var"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "otklik.common.secrets", str(var)],
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "secret_key" in done.stdout
    assert stat.S_IMODE((var / "secret_key").stat().st_mode) == 0o600


@pytest.mark.django_db
def test_a_file_link_forged_with_the_public_development_key_is_refused(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    start = client.post(reverse("chat:api_start"), content_type="application/json", data={})
    conversation, token = start.json()["conversation"], start.json()["token"]
    upload = client.post(
        reverse("chat:api_upload", args=[conversation]),
        {"file": SimpleUploadedFile("passport.png", PNG), "client_msg_id": "f-1"},
        HTTP_X_CHAT_TOKEN=token,
    )
    assert upload.status_code == 201, upload.content
    message = ChatMessage.objects.get(pk=upload.json()["id"])
    assert client.get(upload.json()["message"]["attachment"]["url"]).status_code == 200

    forged = signing.dumps(
        [message.conversation_id, message.pk],
        key=PUBLIC_DEVELOPMENT_KEY,
        salt=FILE_SALT,
        compress=True,
    )
    attacker = client.__class__()
    assert attacker.get(reverse("chat:file", kwargs={"signed": forged})).status_code == 404
