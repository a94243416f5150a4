"""Read audits go through a spool file and reach the audit log exactly once, whatever dies
when (see otklik/audit/spool.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from otklik.audit import spool
from otklik.audit.models import AuditRecord, AuditSpoolBatch
from otklik.audit.spool import audit_read_record, spool_dir, spool_flush
from tests.factories import ClientFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _view(user, client, **kwargs):
    audit_read_record(
        actor=user, action="client.view", via="workspace", client_id=client.pk, obj=client, **kwargs
    )


@pytest.mark.django_db
def test_a_view_spooled_by_a_process_that_then_dies_reaches_the_audit_log():
    person = ClientFactory()
    code = (
        "import os, django; django.setup()\n"
        "from otklik.audit.spool import audit_read_record\n"
        "audit_read_record(actor=None, action='case.view', via='workspace',"
        f" client_id={person.pk})\n"
        "os._exit(9)  # no clean shutdown, nothing flushed by this process\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "otklik.settings",
        "OTKLIK_AUDIT_SPOOL_DIR": settings.OTKLIK_AUDIT_SPOOL_DIR,
    }
    died = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=False)  # noqa: S603
    assert died.returncode == 9

    assert spool_flush() == 1
    record = AuditRecord.objects.get()
    assert (record.action, record.client_id, record.actor_id) == ("case.view", person.pk, None)
    assert not list(spool_dir().iterdir())  # the flushed file is gone


@pytest.mark.django_db
def test_a_flush_that_dies_after_its_commit_adds_nothing_the_second_time(monkeypatch):
    user, person = UserFactory(), ClientFactory()
    _view(user, person)
    _view(user, person)

    def killed(self, missing_ok=False):
        raise RuntimeError("the worker died before deleting the file")

    monkeypatch.setattr(Path, "unlink", killed)
    with pytest.raises(RuntimeError):
        spool_flush()
    monkeypatch.undo()
    assert AuditRecord.objects.count() == 2  # committed, but the file is still there
    assert [p.suffix for p in spool_dir().iterdir()] == [".flushing"]

    assert spool_flush() == 0
    assert AuditRecord.objects.count() == 2
    assert not list(spool_dir().iterdir())


@pytest.mark.django_db
def test_a_flush_that_dies_before_its_commit_is_redone(monkeypatch):
    user, person = UserFactory(), ClientFactory()
    _view(user, person)

    def killed(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(AuditSpoolBatch.objects, "create", killed)
    with pytest.raises(RuntimeError):
        spool_flush()
    monkeypatch.undo()
    assert AuditRecord.objects.count() == 0  # rolled back together with the batch name

    assert spool_flush() == 1
    assert AuditRecord.objects.get().client_id == person.pk


@pytest.mark.django_db
def test_a_writer_that_opened_the_file_just_before_a_flush_claimed_it_writes_to_a_new_file(
    monkeypatch,
):
    user, person = UserFactory(), ClientFactory()
    _view(user, person)  # the live file exists
    real_open = os.open
    claimed = []

    def open_then_lose_the_race(path, flags, mode=0o777):
        fd = real_open(path, flags, mode)
        if not claimed:  # the flush renames the file between our open and our lock
            claimed.append(True)
            spool._claim_live_files(spool_dir())
        return fd

    monkeypatch.setattr(os, "open", open_then_lose_the_race)
    _view(user, person, detail="second")
    monkeypatch.undo()

    live = list(spool_dir().glob("*.jsonl"))
    assert len(live) == 1 and "second" in live[0].read_text()  # not in the claimed file
    assert spool_flush() == 2
    assert sorted(AuditRecord.objects.values_list("detail", flat=True)) == ["", "second"]


@pytest.mark.django_db
def test_a_line_cut_short_is_skipped_and_the_others_kept(caplog):
    user, person = UserFactory(), ClientFactory()
    _view(user, person)
    live = next(spool_dir().glob("*.jsonl"))
    with open(live, "ab") as handle:
        handle.write(b'{"actor_id": 1, "action": "case.vi')  # the process died mid-write
    assert spool_flush() == 1
    assert "damaged" in caplog.text


@pytest.mark.django_db
def test_a_user_or_client_deleted_before_the_flush_leaves_the_record_without_them():
    user, person = UserFactory(), ClientFactory()
    _view(user, person)
    line = json.loads(next(spool_dir().glob("*.jsonl")).read_text())
    user.delete()
    assert spool_flush() == 1
    record = AuditRecord.objects.get()
    assert record.actor_id is None and record.client_id == person.pk
    assert record.object_id == str(person.pk) == line["object_id"]


def test_the_worker_flushes_the_spool_every_second():
    assert ("otklik.audit.spool.spool_flush", 1.0) in settings.OTKLIK_PERIODIC_SCANS
