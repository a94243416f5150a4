"""Clients and products from CSV files of another desk.

The whole file is validated first and every bad line is reported with its number and
reasons; if any line is bad nothing is applied. A valid file is applied in batches, one
transaction each, every row with its contacts whole; each row records its external id
(ImportedRecord), so running the same file again adds nothing and a run that was cut off
resumes after the last committed batch.

clients.csv: external_id, last_name, first_name, patronymic, birth_date (YYYY-MM-DD),
segment (mass/premium/private), phones and emails (several separated by ";").
products.csv: external_id, client_external_id, kind, name, number, status, opened_on,
details (JSON object, as the product kind requires).
"""

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from otklik.clients.models import Client, ProductKind, Segment
from otklik.clients.product_details import validate_details
from otklik.clients.services import client_create, product_create
from otklik.common.phones import phone_digits
from otklik.imports.models import ImportedRecord

SOURCE = "csv"
CLIENT_COLUMNS = ["external_id", "last_name", "first_name"]
PRODUCT_COLUMNS = ["external_id", "client_external_id", "kind", "name"]

Progress = Callable[[int, int], None]


@dataclass
class LineError:
    line: int
    errors: list[str]


@dataclass
class ImportReport:
    kind: str
    total: int = 0
    created: int = 0
    skipped: int = 0  # already imported by an earlier run
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _read(path: Path, required: list[str]) -> tuple[list[tuple[int, dict]], list[LineError]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            return [], [LineError(1, [_("Missing columns: %s") % ", ".join(missing)])]
        # Line numbers as an editor shows them: the header is line 1.
        return [
            (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader
        ], []


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _date(value: str, name: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(
            _("%(field)s: not a date (YYYY-MM-DD): %(value)s") % {"field": name, "value": value}
        )
        return None


def _validate(rows: list[tuple[int, dict]], check: Callable[[dict, list[str]], None]):
    """Every line's problems: an external id that is empty or repeats an earlier line
    (for both files), then what `check` finds in the row's own columns."""
    errors, seen = [], {}
    for line, row in rows:
        problems: list[str] = []
        ext = row.get("external_id", "")
        if not ext:
            problems.append(_("external_id is empty"))
        elif ext in seen:
            problems.append(
                _("external_id %(id)s repeats line %(line)s") % {"id": ext, "line": seen[ext]}
            )
        else:
            seen[ext] = line
        check(row, problems)
        if problems:
            errors.append(LineError(line, problems))
    return errors


def _check_client(row: dict, problems: list[str]) -> None:
    for name in ("last_name", "first_name"):
        if not row.get(name):
            problems.append(_("%s is empty") % name)
    _date(row.get("birth_date", ""), "birth_date", problems)
    segment = row.get("segment") or Segment.MASS
    if segment not in Segment.values:
        problems.append(_("segment must be one of %s") % ", ".join(Segment.values))
    for phone in _split(row.get("phones", "")):
        if len(phone_digits(phone)) != 10:
            problems.append(_("not a Russian phone number: %s") % phone)
    for email in _split(row.get("emails", "")):
        if "@" not in email:
            problems.append(_("not an e-mail address: %s") % email)


def validate_clients(rows: list[tuple[int, dict]]) -> list[LineError]:
    return _validate(rows, _check_client)


def validate_products(rows: list[tuple[int, dict]], file_clients: set[str]) -> list[LineError]:
    known = file_clients | set(
        ImportedRecord.objects.filter(source=SOURCE, kind="client").values_list(
            "external_id", flat=True
        )
    )

    def check(row: dict, problems: list[str]) -> None:
        if row.get("client_external_id", "") not in known:
            problems.append(_("unknown client %s") % row.get("client_external_id", ""))
        if not row.get("name"):
            problems.append(_("name is empty"))
        kind = row.get("kind", "")
        if kind not in ProductKind.values:
            problems.append(_("kind must be one of %s") % ", ".join(ProductKind.values))
        else:
            try:
                details = json.loads(row.get("details") or "{}")
                validate_details(kind, details)
            except json.JSONDecodeError:
                problems.append(_("details is not a JSON object"))
            except ValidationError as exc:
                problems.extend(f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items())
        _date(row.get("opened_on", ""), "opened_on", problems)

    return _validate(rows, check)


def _batches(rows: list, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _apply(kind: str, rows, create_one, report: ImportReport, batch: int, progress) -> None:
    done = set(
        ImportedRecord.objects.filter(source=SOURCE, kind=kind).values_list(
            "external_id", flat=True
        )
    )
    processed = 0
    for chunk in _batches(rows, batch):
        with transaction.atomic():
            for _line, row in chunk:
                if row["external_id"] in done:
                    report.skipped += 1
                    continue
                obj = create_one(row)
                ImportedRecord.objects.create(
                    source=SOURCE, kind=kind, external_id=row["external_id"], object_id=obj.pk
                )
                report.created += 1
        processed += len(chunk)
        if progress:
            progress(processed, len(rows))


def import_clients(
    path: Path, *, actor=None, batch: int = 200, progress: Progress | None = None
) -> ImportReport:
    """Validate the whole file, then (only if every line is valid) add the new clients."""
    rows, errors = _read(path, CLIENT_COLUMNS)
    report = ImportReport(kind="clients", total=len(rows), errors=errors)
    report.errors += validate_clients(rows)
    if report.errors:
        return report

    def create(row: dict) -> Client:
        return client_create(
            last_name=row["last_name"],
            first_name=row["first_name"],
            patronymic=row.get("patronymic", ""),
            birth_date=date.fromisoformat(row["birth_date"]) if row.get("birth_date") else None,
            segment=row.get("segment") or Segment.MASS,
            phones=_split(row.get("phones", "")),
            emails=_split(row.get("emails", "")),
            actor=actor,
        )

    _apply("client", rows, create, report, batch, progress)
    return report


def import_products(
    path: Path, *, actor=None, batch: int = 200, progress: Progress | None = None
) -> ImportReport:
    """Products of clients imported before (by their external ids); all or nothing as above."""
    rows, errors = _read(path, PRODUCT_COLUMNS)
    report = ImportReport(kind="products", total=len(rows), errors=errors)
    report.errors += validate_products(rows, set())
    if report.errors:
        return report
    clients = dict(
        ImportedRecord.objects.filter(source=SOURCE, kind="client").values_list(
            "external_id", "object_id"
        )
    )

    def create(row: dict):
        return product_create(
            client=Client.objects.get(pk=clients[row["client_external_id"]]),
            kind=row["kind"],
            name=row["name"],
            number=row.get("number", ""),
            details=json.loads(row.get("details") or "{}"),
            status=row.get("status") or "active",
            opened_on=date.fromisoformat(row["opened_on"]) if row.get("opened_on") else None,
            actor=actor,
        )

    _apply("product", rows, create, report, batch, progress)
    return report
