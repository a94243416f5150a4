"""Read audits without a database write on every page view: a durable spool, flushed.

Viewing the case page or the client card must leave an audit record, but an INSERT and
its commit per GET is the single write of a read-only page (on SQLite it also takes the
writer lock every intake needs). Instead each view appends one JSON line to this
process's spool file *before* the response is sent, and the worker's periodic scan
(`spool_flush`) moves the lines into `AuditRecord` in one transaction per file.

Why nothing is lost:

- The append is one `write(2)` to a file opened with O_APPEND, finished before the page
  is returned. A crash of the web process after it cannot lose the line: it is in the
  kernel's page cache and reaches the disk without the process. With
  `OTKLIK_AUDIT_SPOOL_FSYNC` the append is also fsync'ed, so it survives a power loss
  (the same guarantee as a committed INSERT, at the price of a disk flush per view).
- The flush renames a file to a unique batch name first; writers take a shared lock
  and check, under it, that the path they opened is still the live file (otherwise
  they open the new one), while the flush takes the exclusive lock before reading, so
  no line is written to a file after it was read.
- The records and the batch's name (`AuditSpoolBatch`, unique) commit together; the
  file is deleted only after that commit. A flush that dies before the commit leaves the
  renamed file, read again next time; one that dies after it finds the batch name and
  only deletes the file. Two workers flushing at once cannot both commit a batch.

A line cut short by a crash in the middle of the write (the page was then never
returned) cannot be parsed; it is logged and skipped. Records keep the time of the view,
not of the flush. Each host that serves pages needs a worker running the scans, since
the spool is a local directory (`OTKLIK_AUDIT_SPOOL_DIR`).
"""

import fcntl
import json
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from otklik.audit.models import AuditRecord, AuditSpoolBatch
from otklik.audit.services import _client_ip

log = logging.getLogger(__name__)

LIVE_SUFFIX = ".jsonl"
BATCH_SUFFIX = ".flushing"
_live: tuple[int, str] | None = None  # (pid, file name) of this process's spool file


def spool_dir() -> Path:
    return Path(settings.OTKLIK_AUDIT_SPOOL_DIR)


def _live_name() -> str:
    """This process's spool file name; a forked child gets its own."""
    global _live
    pid = os.getpid()
    if _live is None or _live[0] != pid:
        host = socket.gethostname().replace(os.sep, "_")
        _live = (pid, f"{host}-{pid}-{secrets.token_hex(4)}{LIVE_SUFFIX}")
    return _live[1]


def _append(line: bytes) -> None:
    directory = spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _live_name()
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue  # renamed by a flush between open and lock: open the new file
            if current.st_ino != os.fstat(fd).st_ino:
                continue
            os.write(fd, line)
            if settings.OTKLIK_AUDIT_SPOOL_FSYNC:
                os.fsync(fd)
            return
        finally:
            os.close(fd)  # also releases the lock


def audit_read_record(
    *,
    actor,
    action: str,
    via: str,
    client_id: int | None = None,
    obj=None,
    request: HttpRequest | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """Record that `actor` viewed a client's data, durably, without a database write.

    Same fields as `audit_record`; the row appears in `AuditRecord` at the next flush.
    """
    entry = {
        "actor_id": actor.pk if getattr(actor, "is_authenticated", False) else None,
        "action": action,
        "client_id": client_id,
        "object_type": obj._meta.model_name if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "via": via,
        "ip": _client_ip(request),
        "detail": detail[:300],
        "created_at": (now or timezone.now()).isoformat(),
    }
    _append(json.dumps(entry, ensure_ascii=False).encode() + b"\n")


def audit_read_records(
    *,
    actor,
    action: str,
    via: str,
    client_ids: list[int],
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> None:
    """`audit_read_record` for every client of a list page (a portfolio page, a call list):
    one line each, appended with one write instead of one open/lock/write per client."""
    if not client_ids:
        return
    base = {
        "actor_id": actor.pk if getattr(actor, "is_authenticated", False) else None,
        "action": action,
        "object_type": "",
        "object_id": "",
        "via": via,
        "ip": _client_ip(request),
        "detail": "",
        "created_at": (now or timezone.now()).isoformat(),
    }
    _append(
        b"".join(
            json.dumps({**base, "client_id": client_id}, ensure_ascii=False).encode() + b"\n"
            for client_id in client_ids
        )
    )


def _claim_live_files(directory: Path) -> None:
    """Rename every live spool file to a unique batch name (writers then open new files)."""
    for path in directory.glob(f"*{LIVE_SUFFIX}"):
        batch = path.with_name(f"{path.stem}.{secrets.token_hex(8)}{BATCH_SUFFIX}")
        try:
            os.rename(path, batch)
        except FileNotFoundError:
            continue  # another worker claimed it


def _records(lines: list[bytes], batch: str) -> list[AuditRecord]:
    entries = []
    for number, raw in enumerate(lines, 1):
        try:
            entries.append(json.loads(raw))
        except ValueError:
            log.error("audit spool %s: line %s is damaged and skipped", batch, number)
    # Users or clients deleted since the view: keep the record, like SET_NULL would.
    user_ids = {e["actor_id"] for e in entries if e["actor_id"] is not None}
    client_ids = {e["client_id"] for e in entries if e["client_id"] is not None}
    if user_ids:
        from django.contrib.auth import get_user_model

        user_ids = set(
            get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True)
        )
    if client_ids:
        from otklik.clients.models import Client

        client_ids = set(Client.objects.filter(pk__in=client_ids).values_list("pk", flat=True))
    return [
        AuditRecord(
            actor_id=e["actor_id"] if e["actor_id"] in user_ids else None,
            action=e["action"],
            client_id=e["client_id"] if e["client_id"] in client_ids else None,
            object_type=e["object_type"],
            object_id=e["object_id"],
            via=e["via"],
            ip=e["ip"],
            detail=e["detail"],
            created_at=datetime.fromisoformat(e["created_at"]),
        )
        for e in entries
    ]


def _flush_batch(path: Path) -> int:
    with open(path, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # wait for writers still appending
        try:
            if os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                return 0
        except FileNotFoundError:
            return 0  # another worker flushed it meanwhile
        lines = [line for line in handle.read().split(b"\n") if line.strip()]
        try:
            with transaction.atomic():
                if AuditSpoolBatch.objects.filter(name=path.name).exists():
                    written = 0  # committed by a flush that died before deleting the file
                else:
                    records = _records(lines, path.name)
                    AuditRecord.objects.bulk_create(records, batch_size=1000)
                    AuditSpoolBatch.objects.create(name=path.name, records=len(records))
                    written = len(records)
        except IntegrityError:
            return 0  # another worker committed this batch at the same moment
        path.unlink(missing_ok=True)
        return written


def spool_flush(now: datetime | None = None) -> int:
    """Move every spooled read audit into `AuditRecord`; the number of records written.

    A periodic scan of the worker (`OTKLIK_PERIODIC_SCANS`); safe in several workers.
    """
    directory = spool_dir()
    if not directory.is_dir():
        return 0
    _claim_live_files(directory)
    written = 0
    for path in sorted(directory.glob(f"*{BATCH_SUFFIX}")):
        written += _flush_batch(path)
    _prune_batches(directory, now or timezone.now())
    return written


def _prune_batches(directory: Path, now: datetime) -> None:
    """Forget this host's batch names whose files are gone (only those guard a retry)."""
    host = socket.gethostname().replace(os.sep, "_")
    old = AuditSpoolBatch.objects.filter(
        name__startswith=f"{host}-", flushed_at__lt=now - timedelta(minutes=10)
    ).values_list("pk", "name")[:1000]
    gone = [pk for pk, name in old if not (directory / name).exists()]
    if gone:
        AuditSpoolBatch.objects.filter(pk__in=gone).delete()
