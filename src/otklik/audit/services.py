"""Writing the personal-data access log."""

from django.http import HttpRequest

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
