"""Real mail servers for the tests: Debian's Dovecot (IMAP) started as our own instance, and
an aiosmtpd "MTA" that delivers what it is given into Dovecot mailboxes over IMAP.

Dovecot runs from a generated configuration in a private directory: passwd-file logins,
maildir, plain authentication on loopback only, a free unprivileged port, no system
service. Without Dovecot the tests skip loudly; with OTKLIK_REQUIRE_DOVECOT=1 (CI) a
missing Dovecot is a failure. Under root (CI containers) Dovecot refuses to run its login
and mail processes as root, so they run as the package's own users (dovenull, dovecot).
"""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

POOL = 40
POOL_KINDS = ("bank", "client")
DOVECOT = os.environ.get("OTKLIK_DOVECOT", "/usr/sbin/dovecot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_dovecot() -> str:
    if not Path(DOVECOT).is_file():
        message = (
            f"MAIL TESTS NOT RUN: no Dovecot at {DOVECOT} "
            "(apt-get install dovecot-imapd, or set OTKLIK_DOVECOT)"
        )
        if os.environ.get("OTKLIK_REQUIRE_DOVECOT", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return DOVECOT


class Dovecot:
    """One private Dovecot; `add_user` makes a mailbox, `append`/`messages` use IMAP."""

    def __init__(self, binary: str):
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="otklik-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            self.login_user = "dovenull"
            mail = pwd.getpwnam("dovecot")
        else:
            self.login_user = pwd.getpwuid(os.getuid()).pw_name
            mail = pwd.getpwuid(os.getuid())
        self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid
        self.passwd = self.root / "passwd"

    def _config(self) -> str:
        internal = pwd.getpwuid(os.getuid()).pw_name
        root = self.root
        return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
default_login_user = {self.login_user}
default_internal_user = {internal}
first_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  user = {self.login_user}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> None:
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.root / sub, self.mail_uid, self.mail_gid)
        self.passwd.write_text(
            "".join(
                f"{kind}{n}@{kind}.test:{{PLAIN}}pw-{kind}-{n}\n"
                for kind in POOL_KINDS
                for n in range(1, POOL + 1)
            )
        )
        self._taken: dict[str, int] = {}
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(  # noqa: S603 - the system's Dovecot
            [self.binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                imap = imaplib.IMAP4(self.host, self.port, timeout=2)
                imap.logout()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start: " + self.log())

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, address: str, password: str) -> None:
        """A user added while running: Dovecot re-reads the file at most once a second
        (and only if its mtime moved), so this waits for the next second."""
        with self.passwd.open("a") as f:
            f.write(f"{address}:{{PLAIN}}{password}\n")
        self._stamp = max(time.time(), getattr(self, "_stamp", 0.0)) + 2
        os.utime(self.passwd, (self._stamp, self._stamp))
        time.sleep(1.1)

    def take(self, kind: str) -> tuple[str, str]:
        """A fresh (address, password) from the pool made at start (no reload wait)."""
        self._taken[kind] = self._taken.get(kind, 0) + 1
        number = self._taken[kind]
        if number > POOL:
            address = f"{kind}-extra{number}@{kind}.test"
            self.add_user(address, f"pw-{kind}-{number}")
            return address, f"pw-{kind}-{number}"
        return f"{kind}{number}@{kind}.test", f"pw-{kind}-{number}"

    def _login(self, address: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(address, password)
        return imap

    def append(self, address: str, password: str, raw: bytes) -> None:
        """Deliver a message into the user's INBOX (as the MTA's delivery agent would)."""
        imap = self._login(address, password)
        try:
            status, data = imap.append("INBOX", None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def messages(self, address: str, password: str) -> list:
        """Every message in the user's INBOX, parsed, oldest first."""
        imap = self._login(address, password)
        try:
            imap.select("INBOX", readonly=True)
            _status, data = imap.uid("SEARCH", None, "ALL")
            found = []
            for uid in (data[0] or b"").split():
                _status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next(p[1] for p in parts if isinstance(p, tuple))
                found.append(BytesParser(policy=policy.default).parsebytes(raw))
            return found
        finally:
            imap.logout()

    def wait_for(self, address: str, password: str, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(address, password)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


class DeliveringHandler:
    """The outgoing SMTP server: delivers into the Dovecot mailboxes it knows, 550 for
    the rest (a real MTA's "no such user")."""

    def __init__(self, dovecot: Dovecot):
        self.dovecot = dovecot
        self.passwords: dict[str, str] = {}
        self.received: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() not in self.passwords:
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        raw = envelope.original_content or envelope.content
        self.received.append(raw)
        for rcpt in envelope.rcpt_tos:
            password = self.passwords[rcpt.lower()]
            await asyncio.to_thread(self.dovecot.append, rcpt.lower(), password, raw)
        return "250 2.0.0 Delivered"


class Smtp:
    def __init__(self, dovecot: Dovecot):
        self.handler = DeliveringHandler(dovecot)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "Smtp":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
