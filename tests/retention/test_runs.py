"""How the job runs: dry runs, batches, stopping and resuming, the command, the settings."""

import io

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.module_loading import import_string

from otklik.cases.models import Case
from otklik.clients.models import Client
from otklik.retention import anonymise
from otklik.retention.models import AnonymisedClient, RetentionRun
from otklik.retention.policy import configuration_errors
from otklik.retention.services import retention_run
from tests.retention.world import (
    YEAR,
    a_client,
    closed_case_with_history,
    closed_chat,
    files_on_disk,
)

pytestmark = pytest.mark.django_db


def _old_closed_cases(cast, n: int, at) -> list[Case]:
    return [
        closed_case_with_history(cast, a_client(f"Клиентова{i}", f"+7 916 000-00-{i:02d}"), at=at)
        for i in range(n)
    ]


def _personal_cases() -> int:
    placeholder = anonymise.placeholder_id()
    return Case.objects.exclude(client_id=placeholder).count()


def test_a_dry_run_counts_what_a_real_run_then_does_and_changes_nothing(cast):
    at = timezone.now()
    _old_closed_cases(cast, 2, at)
    closed_chat(None, at=at)
    files = files_on_disk(settings.MEDIA_ROOT)
    names = sorted(Client.objects.values_list("last_name", flat=True))

    dry = retention_run(now=at + 6 * YEAR, dry_run=True)

    assert dry.dry_run and dry.complete
    assert files_on_disk(settings.MEDIA_ROOT) == files and len(files) == 3
    assert sorted(Client.objects.values_list("last_name", flat=True)) == names
    assert _personal_cases() == 2 and not AnonymisedClient.objects.exists()
    assert dry.counts["closed_cases"]["anonymised"] == 2
    assert dry.counts["attachments"]["deleted"] == 3
    assert dry.counts["chats"]["anonymised"] == 1

    real = retention_run(now=at + 6 * YEAR)

    for name in ("closed_cases", "chats", "interactions"):
        assert real.counts[name]["anonymised"] == dry.counts[name]["anonymised"], name
    # Each class is counted as the data stands; where classes overlap (the chat's file is
    # also an attachment), the real run reports it under the class that reached it first.
    assert sum(c["files"] for c in real.counts.values()) == dry.counts["attachments"]["deleted"]
    assert files_on_disk(settings.MEDIA_ROOT) == []
    # Clients freed by this very run are only counted by the next dry run.
    assert dry.counts["clients"]["anonymised"] == 0 and real.counts["clients"]["anonymised"] == 2


@pytest.mark.parametrize("cases", [4, 5])  # a full last batch, and a short one
def test_batches_stop_at_the_limit_and_the_next_run_goes_on(cast, cases):
    at = timezone.now()
    _old_closed_cases(cast, cases, at)
    only_cases = ["chats", "interactions", "attachments", "clients", "outbox", "audit"]
    settings.OTKLIK_RETENTION_DISABLED = only_cases
    try:
        first = retention_run(now=at + 6 * YEAR, batch_size=2, max_batches=1)
        assert first.counts["closed_cases"]["anonymised"] == 2 and not first.complete
        assert _personal_cases() == cases - 2

        second = retention_run(now=at + 6 * YEAR, batch_size=2, max_batches=1)
        assert second.counts["closed_cases"]["anonymised"] == 2
        assert _personal_cases() == cases - 4

        rest = retention_run(now=at + 6 * YEAR, batch_size=2)
        assert rest.complete and rest.counts["closed_cases"]["anonymised"] == cases - 4
        assert _personal_cases() == 0

        again = retention_run(now=at + 6 * YEAR, batch_size=2)
        assert again.complete and again.counts["closed_cases"]["anonymised"] == 0
    finally:
        del settings.OTKLIK_RETENTION_DISABLED


def test_a_run_killed_in_a_batch_loses_only_that_batch_and_a_rerun_finishes(cast, monkeypatch):
    at = timezone.now()
    cases = _old_closed_cases(cast, 3, at)
    real = anonymise.cases_anonymise
    calls = []

    def dies_on_second_batch(ids, placeholder):
        calls.append(ids)
        if len(calls) == 2:
            real(ids, placeholder)  # the work is done in the transaction, then the crash
            raise KeyboardInterrupt("killed")
        return real(ids, placeholder)

    monkeypatch.setattr(anonymise, "cases_anonymise", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        retention_run(now=at + 6 * YEAR, batch_size=2)
    killed = RetentionRun.objects.get()
    assert killed.finished_at is None and not killed.complete

    # The first batch is committed; the second rolled back whole.
    assert _personal_cases() == 1
    survivor = Case.objects.get(pk=calls[1][0])
    assert survivor.subject == "Карта 2200 7000 заблокирована"
    assert survivor.client.last_name.startswith("Клиентова")

    monkeypatch.setattr(anonymise, "cases_anonymise", real)
    rerun = retention_run(now=at + 6 * YEAR, batch_size=2)
    assert rerun.complete and rerun.counts["closed_cases"]["anonymised"] == 1
    assert _personal_cases() == 0
    assert {c.pk for c in cases} == set(Case.objects.values_list("pk", flat=True))


def test_the_command_prints_per_class_counts_dry_and_real(cast):
    closed_case_with_history(cast, a_client(), at=timezone.now() - 6 * YEAR)
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "Dry run: nothing changed." in text
    line = next(ln for ln in text.splitlines() if ln.startswith("closed_cases"))
    assert line.split()[:4] == ["closed_cases", "1825", "1", "0"]
    assert _personal_cases() == 1

    out = io.StringIO()
    call_command("retention", "--batch-size", "10", stdout=out)

    line = next(ln for ln in out.getvalue().splitlines() if ln.startswith("closed_cases"))
    assert line.split()[:4] == ["closed_cases", "1825", "1", "0"]
    assert _personal_cases() == 0
    with pytest.raises(CommandError):
        call_command("retention", "--max-batches", "0")


def test_an_audit_term_under_a_year_and_unknown_classes_are_refused(settings):
    settings.OTKLIK_RETENTION_DAYS = {**settings.OTKLIK_RETENTION_DAYS, "audit": 90}
    settings.OTKLIK_RETENTION_DISABLED = ["cases"]
    errors = configuration_errors()
    assert any("'audit' must be at least 365" in e for e in errors)
    assert any("'cases' in OTKLIK_RETENTION_DISABLED" in e for e in errors)
    with pytest.raises(ImproperlyConfigured):
        retention_run()
    assert not RetentionRun.objects.exists()


def test_the_worker_runs_retention_as_a_periodic_scan(cast):
    paths = dict(settings.OTKLIK_PERIODIC_SCANS)
    scan = import_string("otklik.retention.services.retention_scan")
    assert paths["otklik.retention.services.retention_scan"] >= 3600

    run = scan(now=timezone.now())

    assert run.trigger == "scan" and run.complete


def test_every_table_that_refers_to_a_client_is_handled_by_retention():
    """A new model pointing at clients must be added to retention (anonymise.py, sources.py)."""
    handled = {
        "cases.case",  # closed_cases: re-linked to the placeholder
        "cases.interaction",  # interactions / closed_cases: re-linked
        "chat.conversation",  # chats: link removed
        "orders.order",  # kept (statutory); keeps its client from anonymisation
        "orders.ordersigningcode",  # one_time_codes; deleted with the client
        "actions.actionrun",  # kept (record of an operation); keeps its client
        "actions.clientflag",  # deleted with the client
        "audit.auditrecord",  # keeps the (anonymised) id: who read it, when
        "notifications.outbox",  # outbox; link cleared with the client
        "clients.contactpoint",  # deleted with the client
        "clients.clientsearchterm",  # deleted with the client
        "clients.product",  # deleted with the client (only closed ones remain then)
        "portal.portallogincode",  # one_time_codes; deleted with the client
        "portal.portalcaseread",  # deleted with the case and the client
        "portal.csirating",  # re-linked to the placeholder, comment removed
        "retention.anonymisedclient",
        "telephony.call",  # interactions / closed_cases: number, recording, client removed
        "telephony.callback",  # anonymised with its call; keeps its client until then
        "analytics.npssurvey",  # surveys / closed_cases / clients: re-linked, comment removed
        "relationship.relationship",  # the service profile; deleted with the client
        "relationship.relatedclient",  # deleted with either client
        "relationship.healthresult",  # deleted with the client
        "relationship.healthsummary",  # deleted with the client
        "relationship.metricvalue",  # deleted with the client; recent figures keep it
        "relationship.onboardingstep",  # deleted with the client
        "relationship.managertask",  # deleted with the client; an open one keeps it
        "relationship.offeroutcome",  # re-linked to the placeholder (manager's figures)
        "relationship.calloutcome",  # re-linked to the placeholder, reasons removed
        "relationship.assignmentchange",  # kept on the anonymised id, reason removed
    }
    referring = {
        model._meta.label_lower
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model is Client
    }
    assert referring == handled


def test_no_domain_app_imports_retention():
    """Retention depends on the domain apps, never the other way round."""
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "otklik"
    offenders = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if "retention" not in path.relative_to(src).parts[:1]
        and path.name != "settings.py"
        and "otklik.retention" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
