"""Writing the personal-data access log."""

from collections.abc import Iterator

from django.http import HttpRequest
from django.utils import timezone

from otklik.audit.models import AuditRecord


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor,
    action: str,
    via: str,
    client_id: int | None = None,
    obj=None,
    request: HttpRequest | None = None,
    detail: str = "",
) -> AuditRecord:
    """Record that `actor` did `action` on a client's data through `via`."""
    return AuditRecord.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        client_id=client_id,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        via=via,
        ip=_client_ip(request),
        detail=detail[:300],
    )


def audit_records_bulk(
    *,
    actor,
    action: str,
    via: str,
    client_ids: list[int],
    request: HttpRequest | None = None,
    detail: str = "",
) -> None:
    """Record one access per client shown in a list (search results, API pages)."""
    ip = _client_ip(request)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    AuditRecord.objects.bulk_create(
        [
            AuditRecord(
                actor=actor_obj,
                action=action,
                client_id=cid,
                object_type="client",
                object_id=str(cid),
                via=via,
                ip=ip,
                detail=detail[:300],
            )
            for cid in client_ids
        ]
    )


EXPORT_COLUMNS = (
    "time",
    "staff_username",
    "staff_name",
    "staff_role",
    "action",
    "action_label",
    "via",
    "client_id",
    "client_name",
    "object",
    "ip",
    "detail",
)


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def access_log_export(*, user, filters, request: HttpRequest | None = None) -> Iterator[list[str]]:
    """Rows of the access review as CSV cells, header first; the export itself is audited.

    Checks the reviewer's right (PermissionDenied otherwise) before anything is recorded.
    """
    from otklik.audit.selectors import EXPORT_MAX_ROWS, access_log, action_label

    records = access_log(user=user, filters=filters)
    # The export as it stood when asked for: not the record of the export itself.
    newest = AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    records = records.filter(pk__lte=newest)[:EXPORT_MAX_ROWS]
    audit_record(
        actor=user,
        action="access_review.export",
        via="workspace",
        client_id=filters.client_id,
        request=request,
        detail=filters.describe(),
    )

    def rows() -> Iterator[list[str]]:
        yield list(EXPORT_COLUMNS)
        for record in records.iterator(chunk_size=2000):
            actor, client = record.actor, record.client
            yield [
                _cell(c)
                for c in (
                    timezone.localtime(record.created_at).isoformat(timespec="seconds"),
                    actor.username if actor else "",
                    actor.display_name if actor else "",
                    actor.get_role_display() if actor else "",
                    record.action,
                    action_label(record.action),
                    record.via,
                    record.client_id or "",
                    client.full_name if client else "",
                    f"{record.object_type}:{record.object_id}" if record.object_type else "",
                    record.ip or "",
                    record.detail,
                )
            ]

    return rows()
