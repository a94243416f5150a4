"""Issue 10, finding 2: once sent, no one-time code is left in the database, the logs or
the mail folder. Login codes (SMS and e-mail) and a signing code go through the real
outbox worker path; then every table's rows, the captured logs and the mail files are
searched for every code."""

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.db import connection

from otklik.notifications import delivery
from otklik.notifications.models import Outbox
from otklik.orders import services as order_services
from otklik.portal import services as portal_services
from tests.codes import sealed_code
from tests.notifications.receiver import WebhookReceiver

IP = "203.0.113.7"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?")


def database_dump() -> str:
    """Every row of every table as text (SQLite: iterdump; PostgreSQL: SELECT *)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the catalogue)
            for row in cursor.fetchall():
                lines.append(
                    table
                    + "|"
                    + "|".join(
                        bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                        for v in row
                    )
                )
    return "\n".join(lines)


def _found(code: str, text: str) -> bool:
    # Timestamps' microseconds are six digits too; a code is never part of one.
    return re.search(rf"(?<!\d){code}(?!\d)", TIMESTAMP.sub(" ", text)) is not None


@pytest.mark.django_db
def test_no_code_survives_in_database_logs_or_mail(story_case, cast, settings, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    mail_dir = tmp_path / "mail"
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(mail_dir)},
        }
    }
    client = story_case.client
    phone = client.contacts.get(kind="phone").value
    email = client.contacts.get(kind="email").value
    codes = []
    with WebhookReceiver() as gateway:
        settings.NOTIFIERS = {
            **settings.NOTIFIERS,
            "sms": {"BACKEND": "webhook", "URL": gateway.url},
        }

        # 1. Portal login by SMS: the code reaches the SMS gateway, logs the client in.
        challenge = portal_services.portal_code_request(identifier=phone, ip=IP)
        delivery.deliver_due()
        sms = gateway.processed[f"portal-login-code:{challenge.code_id}"]["body"]
        codes.append(re.search(r"\b(\d{6})\b", sms).group(1))
        assert (
            portal_services.portal_code_verify(code_id=challenge.code_id, code=codes[-1], ip=IP)
            == client
        )

        # 2. Portal login by e-mail: the development mail folder gets it masked; the tester
        # uses the documented command instead.
        challenge = portal_services.portal_code_request(identifier=email, ip=IP)
        codes.append(sealed_code(Outbox.objects.get(key=f"portal-login-code:{challenge.code_id}")))
        delivery.deliver_due()
        out = io.StringIO()
        call_command("portal_login_code", email, stdout=out)
        codes.append(re.search(r"\b(\d{6})\b", out.getvalue()).group(1))
        assert (
            portal_services.portal_code_verify(code_id=challenge.code_id, code=codes[-1], ip=IP)
            == client
        )

        # 3. Signing an order: the code comes by SMS and signs.
        order = order_services.order_draft(
            actor=cast.olga, case=story_case, template_code="iis_close_frozen", send=True
        )
        signing = order_services.order_signing_code_request(client=client, order=order, ip=IP)
        delivery.deliver_due()
        sms = gateway.processed[f"order-signing-code:{signing.code_id}"]["body"]
        codes.append(re.search(r"\b(\d{6})\b", sms).group(1))
        order_services.order_sign(
            client=client, order=order, code_id=signing.code_id, code=codes[-1], ip=IP
        )

    assert len(set(codes)) >= 2  # real, different codes were sent and used
    assert not Outbox.objects.exclude(status="sent").filter(key__contains="code").exists()
    dump = database_dump()
    assert "portal-login-code" in dump and "order-signing-code" in dump  # the rows are there
    logs = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    mail = "\n".join(p.read_text(errors="replace") for p in mail_dir.iterdir())
    assert mail  # the e-mail was written to the folder
    for code in codes:
        assert not _found(code, dump), f"code {code} is in the database"
        assert not _found(code, logs), f"code {code} is in the logs"
        assert not _found(code, mail), f"code {code} is in the mail folder"
