"""Texts stored before redaction existed are redacted by a resumable command."""

import pytest
from django.core.management import call_command

from otklik.cases.models import Interaction, Message
from tests.factories import make_case

pytestmark = pytest.mark.django_db

OLD = "Клиент продиктовал карту 4561 2612 1234 5467 и ИНН 500100732259, сумма 15 000 ₽"
NEW = "Клиент продиктовал карту •••• 5467 и ИНН •••• 2259, сумма 15 000 ₽"


def test_dry_run_counts_then_the_run_redacts_and_a_second_run_changes_nothing(cast, capsys):
    case = make_case(actor=cast.alice, description="заметка")
    Message.objects.filter(case=case).update(body=OLD)  # as stored by an older version
    interaction = Interaction.objects.create(
        client=case.client, case=case, channel="phone", summary=OLD, started_at=case.created_at
    )
    untouched = Message.objects.create(
        case=case, author_kind="staff", body="Тел. 89125740361", created_at=case.created_at
    )

    call_command("redact_stored_texts", "--dry-run")
    assert "would change 2 value(s)" in capsys.readouterr().out
    assert Message.objects.get(case=case, pk__lt=untouched.pk).body == OLD

    call_command("redact_stored_texts", "--batch", "1")
    assert Message.objects.get(case=case, pk__lt=untouched.pk).body == NEW
    assert Interaction.objects.get(pk=interaction.pk).summary == NEW
    assert Message.objects.get(pk=untouched.pk).body == "Тел. 89125740361"
    capsys.readouterr()
    call_command("redact_stored_texts")
    assert "changed 0 value(s)" in capsys.readouterr().out
