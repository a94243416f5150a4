"""Mail fixtures: one private Dovecot per test session, an SMTP server per test, and a
mailbox of the desk wired to both."""

import uuid

import pytest

from otklik.mail.models import Mailbox, Security
from tests.mail.servers import Dovecot, Smtp, require_dovecot


@pytest.fixture(scope="session")
def dovecot():
    server = Dovecot(require_dovecot())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_sender_limits(monkeypatch):
    """Sender limits count in the shared store (Redis in CI): a key space per test."""
    from otklik.mail import inbound

    monkeypatch.setattr(inbound._senders, "prefix", f"test-mail-sender:{uuid.uuid4().hex}")


@pytest.fixture
def smtp(dovecot):
    with Smtp(dovecot) as server:
        yield server


@pytest.fixture
def accounts(dovecot, smtp):
    """Fresh addresses for this test: the bank's support box and a client's box."""
    made = {"support": dovecot.take("bank"), "client": dovecot.take("client")}
    for address, password in made.values():
        smtp.handler.passwords[address] = password
    return made


@pytest.fixture
def mailbox(db, dovecot, smtp, accounts, cast):
    address, password = accounts["support"]
    box = Mailbox(
        name="Поддержка",
        address=address,
        display_name="Банк, поддержка",
        team=cast.team_a,
        signature="С уважением,\nслужба поддержки банка",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_username=address,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security=Security.NONE,
    )
    box.set_passwords(imap=password)
    box.save()
    return box
