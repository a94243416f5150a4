"""Secrets of one installation: from the environment, or from per-install files under var/.

Each secret has its own setting and none is derived from another. A deployment sets them
in its environment (NAME, or NAME_FILE naming a file that holds the value); `make run`
(and the test suite) create random ones once per installation, as files readable only by
their owner, so the demo needs no configuration and shares no key with anyone else.

Run `python -m otklik.common.secrets` to create the files (`make run` and `make lint` do).
Imported by settings: nothing here may need Django to be set up.
"""

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

#: Setting name → (file name under var/, how a fresh value is made).
INSTALL_SECRETS: dict[str, tuple[str, Callable[[], str]]] = {
    "SECRET_KEY": ("secret_key", lambda: secrets.token_urlsafe(50)),
    "OTKLIK_BACKOFFICE_SECRET": ("backoffice_secret", lambda: secrets.token_hex(32)),
    "OTKLIK_DEMO_API_TOKEN": ("demo_api_token", lambda: "otk_" + secrets.token_urlsafe(32)),
    # Encrypts the text of an outbox message carrying a one-time code until it is sent.
    "OTKLIK_OUTBOX_SECRET_KEY": ("outbox_secret_key", lambda: secrets.token_urlsafe(32)),
    # Encrypts staff authenticators' (TOTP) secrets at rest.
    "OTKLIK_TOTP_SECRET_KEY": ("totp_secret_key", lambda: secrets.token_urlsafe(32)),
    # Encrypts mailbox credentials (IMAP/SMTP passwords) at rest.
    "OTKLIK_MAIL_SECRET_KEY": ("mail_secret_key", lambda: secrets.token_urlsafe(32)),
    # Signs the telephony (CTI) call events the PBX posts (HMAC-SHA256).
    "OTKLIK_CTI_SECRET": ("cti_secret", lambda: secrets.token_hex(32)),
}


def default_var_dir() -> Path:
    project = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("OTKLIK_VAR_DIR", str(project / "var")))


def secret_file(name: str, var_dir: Path) -> Path:
    return var_dir / INSTALL_SECRETS[name][0]


def read_secret(name: str, *, var_dir: Path) -> str:
    """NAME from the environment, else the file NAME_FILE names, else var/<file>; or ""."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    named = os.environ.get(f"{name}_FILE", "").strip()
    if named:
        try:
            value = Path(named).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={named}: {exc.strerror}") from exc
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE={named} is empty")
        return value
    path = secret_file(name, var_dir)
    return path.read_text().strip() if path.is_file() else ""


def ensure_secret_file(name: str, *, var_dir: Path) -> str:
    """The value in var/<file>, creating the file with a random value (mode 0600) if absent."""
    path = secret_file(name, var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(INSTALL_SECRETS[name][1]() + "\n")
    return path.read_text().strip()


def ensure_install_secrets(*, var_dir: Path) -> dict[str, str]:
    """Create every per-install secret file that does not exist yet; return the values."""
    return {name: ensure_secret_file(name, var_dir=var_dir) for name in INSTALL_SECRETS}


if __name__ == "__main__":
    var = Path(sys.argv[1]) if len(sys.argv) > 1 else default_var_dir()
    for name in ensure_install_secrets(var_dir=var):
        print(f"{name}: {secret_file(name, var)} (0600)")
