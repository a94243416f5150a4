"""The back-office feed of aggregates: through the API (batches) or a CSV upload.

Every row is validated before anything is written; one bad row refuses the whole batch
and the answer names each bad row by its line (CSV) or index (API). A batch is applied
once: its key (the caller's batch id, or the file's SHA-256) is stored with the rows,
and a resent batch is answered from that record. Rows are upserts on (client, metric,
period), so even a resent batch under a new key leaves the same state.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otklik.clients.models import Client
from otklik.common.errors import ServiceError
from otklik.relationship.health import health_recompute
from otklik.relationship.models import FeedBatch, Metric, MetricUnit, MetricValue

MAX_ROWS = 200_000
MAX_CSV_BYTES = 20 * 1024 * 1024
COLUMNS = ("client_id", "metric", "period", "value")
FLAG_VALUES = {"1": 1, "0": 0, "true": 1, "false": 0, "да": 1, "нет": 0, "yes": 1, "no": 0}
#: Above this many clients the health recompute is left to the nightly scan.
RECOMPUTE_INLINE_MAX = 200_000


@dataclass
class RowError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


class FeedRejected(ServiceError):
    """The batch had bad rows; nothing of it was applied."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(_("%(n)d bad rows; nothing was applied.") % {"n": len(errors)})


@dataclass
class FeedResult:
    batch: str
    rows: int
    clients: int = 0
    replayed: bool = False
    recomputed: int = 0
    errors: list[RowError] = field(default_factory=list)


def _period(text: str) -> date:
    text = text.strip()
    if len(text) == 7:
        return datetime.strptime(text, "%Y-%m").date()
    return date.fromisoformat(text)


def _value(text: str, unit: str) -> Decimal:
    raw = str(text).strip().replace(" ", "").replace("\u00a0", "")
    if unit == MetricUnit.FLAG:
        if raw.lower() not in FLAG_VALUES:
            raise ValueError
        return Decimal(FLAG_VALUES[raw.lower()])
    value = Decimal(raw.replace(",", "."))
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        raise ValueError
    return value.quantize(Decimal("0.01"))


def validate_rows(rows: list[tuple[int, dict]]) -> tuple[list[MetricValue], list[RowError]]:
    """Check every (line, row); return the values to write and every error found."""
    metrics = {m.code: m for m in Metric.objects.all()}
    errors: list[RowError] = []
    parsed: list[tuple[int, int, Metric, date, Decimal]] = []
    for line, row in rows:
        bad = False
        try:
            client_id = int(str(row.get("client_id", "")).strip())
        except ValueError:
            errors.append(RowError(line, "client_id", _("Not a client number.")))
            bad = True
        metric = metrics.get(str(row.get("metric", "")).strip())
        if metric is None:
            errors.append(
                RowError(line, "metric", _("Unknown metric «%(m)s».") % {"m": row.get("metric")})
            )
            bad = True
        try:
            period = _period(str(row.get("period", "")))
        except ValueError:
            errors.append(RowError(line, "period", _("Period must be YYYY-MM or YYYY-MM-DD.")))
            bad = True
        try:
            value = _value(row.get("value", ""), metric.unit if metric else MetricUnit.RUB)
        except (ValueError, InvalidOperation):
            errors.append(RowError(line, "value", _("Not a valid value for this metric.")))
            bad = True
        if not bad:
            parsed.append((line, client_id, metric, period, value))
    known: set[int] = set()
    ids = sorted({p[1] for p in parsed})
    for i in range(0, len(ids), 5000):
        known.update(Client.objects.filter(pk__in=ids[i : i + 5000]).values_list("pk", flat=True))
    now = timezone.now()
    values: dict[tuple[int, int, date], MetricValue] = {}
    for line, client_id, metric, period, value in parsed:
        if client_id not in known:
            errors.append(RowError(line, "client_id", _("No such client.")))
            continue
        values[(client_id, metric.pk, period)] = MetricValue(
            client_id=client_id, metric=metric, period=period, value=value, updated_at=now
        )
    errors.sort(key=lambda e: e.line)
    return list(values.values()), errors


def feed_apply(
    *, rows: list[tuple[int, dict]], batch: str, source: str, actor=None, recompute: bool = True
) -> FeedResult:
    """Validate and apply one batch, all or nothing; a known batch key is a replay."""
    if len(rows) > MAX_ROWS:
        raise ServiceError({"rows": _("At most %(n)d rows per batch.") % {"n": MAX_ROWS}})
    done = FeedBatch.objects.filter(key=batch).first()
    if done is not None:
        return FeedResult(batch=batch, rows=done.rows, replayed=True)
    values, errors = validate_rows(rows)
    if errors:
        raise FeedRejected(errors)
    try:
        with transaction.atomic():
            FeedBatch.objects.create(
                key=batch, source=source, rows=len(rows), by=actor, at=timezone.now()
            )
            MetricValue.objects.bulk_create(
                values,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["client", "metric", "period"],
                update_fields=["value", "updated_at"],
            )
    except IntegrityError:  # the same batch applied concurrently: it is there now
        done = FeedBatch.objects.get(key=batch)
        return FeedResult(batch=batch, rows=done.rows, replayed=True)
    clients = {v.client_id for v in values}
    result = FeedResult(batch=batch, rows=len(rows), clients=len(clients))
    if recompute and len(clients) <= RECOMPUTE_INLINE_MAX:
        result.recomputed = health_recompute(client_ids=clients)
    return result


def csv_rows(data: bytes) -> list[tuple[int, dict]]:
    """Parse an upload into (line number, row); a broken file is refused as a whole."""
    if len(data) > MAX_CSV_BYTES:
        raise ServiceError({"file": _("The file is larger than 20 MB.")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError({"file": _("The file is not UTF-8 text.")}) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ServiceError(
            {"file": _("Line 1: the header lacks columns: %(c)s.") % {"c": ", ".join(missing)}}
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict]] = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows.append((reader.line_num, row))
    if not rows:
        raise ServiceError({"file": _("The file has no rows.")})
    return rows


def feed_upload_csv(*, data: bytes, actor=None) -> FeedResult:
    """The CSV upload: the file's hash is its batch key, so uploading it again is a no-op."""
    batch = "csv:" + hashlib.sha256(data).hexdigest()
    return feed_apply(rows=csv_rows(data), batch=batch, source="csv", actor=actor)
