"""Tickets from Zammad and Zendesk exports (tests/imports/exports/, built to their documented
API formats): cases, messages, interactions, files, idempotence, refusals, visibility."""

import base64
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.audit.spool import spool_flush
from otklik.cases.models import (
    AuthorKind,
    Case,
    CaseEvent,
    CaseStatus,
    Interaction,
    Message,
    Priority,
)
from otklik.clients.models import Client
from otklik.imports.desk_formats import read_zammad, read_zendesk
from otklik.imports.desk_import import Mapping, import_tickets
from otklik.imports.models import ImportedFile, ImportedRecord
from tests.factories import ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORTS = Path(__file__).parent / "exports"
ZAMMAD = EXPORTS / "zammad" / "export.json"
ZENDESK = EXPORTS / "zendesk" / "export.json"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk():
    """Our side: two teams, Anna (same e-mail as in both old desks), Boris (other e-mail)."""
    first, second = TeamFactory(name="Первая линия"), TeamFactory(name="Вторая линия")
    anna = UserFactory(username="a.smirnova", email="anna.smirnova@bank.example", team=first)
    boris = UserFactory(username="b.kim", email="kim@bank.example", team=second)
    maria = ClientFactory(last_name="Кузнецова", first_name="Мария")
    maria.contacts.create(kind="email", value="maria.k@mail.example")
    mapping = Mapping(
        agents={"boris@old-desk.example": "b.kim"},
        groups={"Users": "Первая линия", "2nd Level": "Вторая линия", "Support": "Первая линия"},
    )
    return {
        "first": first,
        "second": second,
        "anna": anna,
        "boris": boris,
        "maria": maria,
        "mapping": mapping,
    }


def _case(source: str, ticket: str) -> Case:
    record = ImportedRecord.objects.get(source=source, kind="ticket", external_id=ticket)
    return Case.objects.get(pk=record.object_id)


def _counts():
    return [
        m.objects.count() for m in (Case, Message, Interaction, CaseEvent, Client, ImportedFile)
    ]


def test_zammad_export_is_imported_whole_and_the_broken_ticket_alone_is_refused(desk):
    report = import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    assert (report.total, report.imported, report.skipped) == (4, 3, 0)
    assert [r.number for r in report.rejected] == ["31003"]
    reasons = " ".join(report.rejected[0].reasons)
    assert (
        "created_at is not a date" in reasons and "attachments/7003/scan.pdf is missing" in reasons
    )
    assert not ImportedRecord.objects.filter(kind="ticket", external_id="103").exists()

    card = _case("zammad", "101")
    assert card.subject == "Не проходит платёж картой в магазине"
    assert (card.status, card.is_open, card.priority) == (
        CaseStatus.IN_PROGRESS,
        True,
        Priority.NORMAL,
    )
    assert (card.team, card.owner, card.channel) == (desk["first"], desk["anna"], "email")
    assert card.created_at.isoformat() == "2025-11-03T09:15:00+00:00" and card.due_at is None
    ivan = card.client
    assert (ivan.last_name, ivan.first_name) == ("Петров", "Иван")
    assert set(ivan.contacts.values_list("value", flat=True)) == {
        "ivan.petrov@mail.example",
        "+79161234567",
    }
    messages = list(card.messages.order_by("created_at"))
    assert [(m.author_kind, m.visibility, m.author) for m in messages] == [
        (AuthorKind.CLIENT, "public", None),
        (AuthorKind.STAFF, "internal", desk["anna"]),
        (AuthorKind.STAFF, "public", desk["anna"]),
    ]
    assert messages[0].body.startswith("Здравствуйте!\n") and "<p>" not in messages[0].body
    contacts = list(card.interactions.order_by("started_at"))
    assert [(i.direction, i.channel, i.external_ref) for i in contacts] == [
        ("inbound", "email", "zammad:1001"),
        ("outbound", "email", "zammad:1003"),
    ]
    assert messages[0].interaction == contacts[0] and messages[1].interaction is None

    closed = _case("zammad", "102")
    assert (closed.status, closed.is_open, closed.priority) == ("closed", False, Priority.HIGH)
    assert (closed.team, closed.owner) == (desk["second"], desk["boris"])
    assert closed.client == desk["maria"]  # matched by e-mail, not created again
    assert closed.closed_at.isoformat() == "2025-10-22T08:30:00+00:00"
    assert closed.messages.filter(author_kind=AuthorKind.SYSTEM, visibility="internal").count() == 1
    assert closed.events.filter(kind="status_changed", new_value="closed").count() == 1

    pending = _case("zammad", "104")
    assert (pending.status, pending.owner, pending.priority) == (
        "waiting_client",
        None,
        Priority.LOW,
    )
    assert pending.messages.get(author_kind="staff").body == "Files: statement.txt"
    assert (report.clients_created, report.clients_matched, report.files) == (1, 1, 3)


def test_a_rerun_changes_nothing(desk):
    import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    before = _counts()
    again = import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    assert (again.imported, again.skipped, len(again.rejected)) == (0, 3, 1)
    assert _counts() == before


def test_a_run_cut_off_midway_resumes_where_it_stopped(desk, monkeypatch):
    from otklik.imports import desk_import

    real = desk_import._apply
    calls = {"n": 0}

    def dies_on_the_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is stopped mid-ticket
        return real(*args, **kwargs)

    monkeypatch.setattr(desk_import, "_apply", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    assert Case.objects.count() == 1 and ImportedFile.objects.count() == 1  # ticket 101 whole
    monkeypatch.setattr(desk_import, "_apply", real)
    report = import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    assert (report.imported, report.skipped) == (2, 1)
    assert Case.objects.count() == 3


def test_a_ticket_failing_while_stored_leaves_no_row_and_no_file(desk, monkeypatch, settings):
    from otklik.imports import desk_import

    def refuse(**kwargs):  # the last write of a ticket, after its files were stored
        raise desk_import.ServiceError({"ticket": "disk full"})

    monkeypatch.setattr(desk_import.ImportedRecord.objects, "create", refuse)
    report = import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    assert report.imported == 0 and len(report.rejected) == 4
    assert "ticket: disk full" in report.rejected[0].reasons
    assert _counts() == [0, 0, 0, 0, 1, 0]  # only Maria, who was there before
    stored = Path(settings.MEDIA_ROOT) / "imported"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_unmapped_agents_and_groups_stop_the_run_before_anything_is_written(desk):
    report = import_tickets(read_zammad([ZAMMAD]))  # no mapping file
    assert report.stopped
    assert report.unmapped_agents == {"Борис Ким <boris@old-desk.example>": 1}
    assert dict(report.unmapped_groups) == {"Users": 3, "2nd Level": 1}
    assert Case.objects.count() == 0 and ImportedRecord.objects.count() == 0

    allowed = import_tickets(read_zammad([ZAMMAD]), allow_unmapped=True)
    assert allowed.imported == 3
    closed = _case("zammad", "102")
    assert closed.team is None and closed.owner is None
    phoned = closed.messages.get(author_kind="staff")
    assert phoned.author is None and phoned.body.startswith("[Борис Ким <boris@old-desk.example>]")


def test_attachments_are_readable_afterwards_by_who_may_see_the_case_and_audited(desk, client):
    import_tickets(read_zammad([ZAMMAD]), mapping=desk["mapping"])
    card = _case("zammad", "101")
    kept = ImportedFile.objects.get(case=card)
    original = json.loads(ZAMMAD.read_text())["tickets"][0]["articles"][0]["attachments"][0]
    assert (kept.name, kept.content_type) == ("выписка.pdf", "application/pdf")
    assert kept.message.body.startswith("Здравствуйте!")
    assert kept.file.name.startswith(f"imported/{card.pk}/") and "выписка" not in kept.file.name

    client.force_login(desk["anna"])
    page = client.get(reverse("workspace:case_detail", args=[card.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "выписка.pdf" in html and reverse("imports:file", args=[kept.pk]) in html
    spool_flush()  # page reads are audited through the spool
    assert AuditRecord.objects.filter(
        actor=desk["anna"], action="case.view", client_id=card.client_id
    ).exists()

    answer = client.get(reverse("imports:file", args=[kept.pk]))
    assert answer.status_code == 200

    assert b"".join(answer.streaming_content) == base64.b64decode(original["data"])
    assert AuditRecord.objects.filter(
        actor=desk["anna"], action="case.file", client_id=card.client_id, object_id=str(kept.pk)
    ).exists()

    client.force_login(desk["boris"])  # another team, not the owner: neither case nor file
    assert client.get(reverse("workspace:case_detail", args=[card.pk])).status_code == 404
    assert client.get(reverse("imports:file", args=[kept.pk])).status_code == 404
    assert not AuditRecord.objects.filter(actor=desk["boris"], action="case.file").exists()

    image = ImportedFile.objects.get(case=_case("zammad", "102"))
    assert image.content_type == "image/png"
    assert image.file.read() == (EXPORTS / "zammad/attachments/7002/card.png").read_bytes()


def test_zendesk_export_is_imported(desk):
    report = import_tickets(read_zendesk([ZENDESK]), mapping=desk["mapping"])
    assert (report.imported, [r.number for r in report.rejected]) == (2, ["5003"])
    reasons = " ".join(report.rejected[0].reasons)
    assert "status 'deleted' is not imported" in reasons and "999999" in reasons

    billing = _case("zendesk", "5001")
    assert (billing.status, billing.priority, billing.is_open) == (
        "resolved",
        Priority.URGENT,
        False,
    )
    assert (billing.owner, billing.team, billing.channel) == (desk["anna"], desk["first"], "email")
    assert billing.resolved_at.isoformat() == "2025-09-02T16:00:00+00:00"
    olga = billing.client
    assert (olga.last_name, olga.first_name) == ("Белова", "Ольга")
    assert [(m.author_kind, m.visibility) for m in billing.messages.order_by("created_at")] == [
        ("client", "public"),
        ("staff", "internal"),
        ("staff", "public"),
    ]
    assert billing.interactions.count() == 2
    assert ImportedFile.objects.get(case=billing).name == "screen.png"

    held = _case("zendesk", "5002")
    assert (held.status, held.channel, held.priority) == ("waiting_department", "phone", 2)
    assert held.subject == "Звонок: уточнить статус заявки на кредит."  # no subject: first line
    assert held.client.contacts.get().value == "+79035550000"


def test_the_command_shows_progress_reports_refusals_and_reruns(desk, tmp_path, capsys):
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"agents": desk["mapping"].agents, "groups": desk["mapping"].groups}),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="1 ticket"):
        call_command("import_desk", "--format", "zendesk", str(ZENDESK), "--mapping", str(mapping))
    out = capsys.readouterr()
    assert "[##############################] 3/3" in out.err
    assert "ticket 5003: status 'deleted' is not imported" in out.err
    assert "2 ticket(s) imported, 0 already there, 1 refused, of 3" in out.out

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_desk", "--format", "zammad", str(ZAMMAD), "--no-progress")
    assert "unmapped agent: Борис Ким <boris@old-desk.example>" in capsys.readouterr().err

    bad = tmp_path / "x.json"
    bad.write_text('{"users": []}', encoding="utf-8")
    with pytest.raises(CommandError, match="no «tickets» list"):
        call_command("import_desk", "--format", "zammad", str(bad))


def test_an_operator_of_the_team_sees_imported_history_on_the_case_page(desk, client):
    import_tickets(read_zendesk([ZENDESK]), mapping=desk["mapping"])
    colleague = UserFactory(role=Role.OPERATOR, team=desk["first"])
    client.force_login(colleague)
    page = client.get(reverse("workspace:case_detail", args=[_case("zendesk", "5001").pk]))
    html = page.content.decode()
    assert "Ольга, возврат 299 ₽ придёт в течение 3 дней." in html
    panel = html[html.index('id="imported-from"') :]
    assert "Zendesk" in panel[:400] and "5001" in panel[:400]  # origin, in either language
