"""Exports of the dashboard's tables to CSV and XLSX, with the filters written in the file.

Both are streamed: CSV row by row straight to the response; XLSX through openpyxl's
write-only workbook, which writes rows to a temporary file as they come (the rows are read
from the database with `.iterator()`), then the file is sent in chunks. A month's case
list of 100 000 rows never sits in memory.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from otklik.cases.models import CaseStatus


class _Echo:
    def write(self, value: str) -> str:
        return value


def case_rows(cases) -> Iterator[list]:
    """One row per case; no client personal data (the list is about workload, not people)."""
    statuses = dict(CaseStatus.choices)
    rows = cases.order_by("-created_at").values_list(
        "pk",
        "subject",
        "status",
        "channel",
        "team__name",
        "owner__username",
        "topic__name",
        "created_at",
        "resolved_at",
    )
    for pk, subject, status, channel, team, owner, topic, created, resolved in rows.iterator(
        chunk_size=2000
    ):
        yield [
            f"№{pk}",
            subject,
            str(statuses.get(status, status)),
            channel,
            team or "",
            owner or "",
            topic or "",
            timezone.localtime(created).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(resolved).strftime("%Y-%m-%d %H:%M") if resolved else "",
        ]


def case_header() -> list[str]:
    return [
        _("Case"),
        _("Subject"),
        _("Status"),
        _("Channel"),
        _("Team"),
        pgettext("case", "Owner"),
        _("Topic"),
        _("Created"),
        _("Resolved"),
    ]


def _cell(value) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, (int, float)) else str(value)


def csv_response(
    *,
    filename: str,
    title: str,
    filters: list[tuple[str, str]],
    header: list[str],
    rows: Iterable[list],
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # Excel opens UTF-8 CSV with Cyrillic only after a BOM
        yield writer.writerow([title])
        for name, value in filters:
            yield writer.writerow([name, value])
        yield writer.writerow([])
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def sheet_title(text: str) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()
    return cleaned[:31] or "data"


def xlsx_response(
    *,
    filename: str,
    title: str,
    filters: list[tuple[str, str]],
    header: list[str],
    rows: Iterable[list],
) -> FileResponse:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(sheet_title(title))
    sheet.append([title])
    for name, value in filters:
        sheet.append([name, value])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    info = wb.create_sheet(sheet_title(_("Filters")))
    for name, value in filters:
        info.append([name, value])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    wb.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
