"""Probe and scrape endpoints: no login, no session, no personal data in the answers."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from otklik.ops import health, metrics


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 if this process can serve, 503 if not; `?strict=1` also fails on lag."""
    strict = request.GET.get("strict") in {"1", "true", "yes"}
    checks = health.readiness()
    ok = health.is_ready(checks, strict=strict)
    body = {
        "status": "ok" if all(c.ok for c in checks) else ("degraded" if ok else "fail"),
        "checks": {
            c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms, "critical": c.critical}
            for c in checks
        },
    }
    return JsonResponse(body, status=200 if ok else 503)


@csrf_exempt
@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer token or an allowed network; otherwise 404."""
    if not metrics_allowed(request):
        raise Http404
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")


def metrics_allowed(request: HttpRequest) -> bool:
    """OTKLIK_METRICS_TOKEN as `Authorization: Bearer …`, or REMOTE_ADDR in
    OTKLIK_METRICS_NETWORKS. With neither set the endpoint is off (404), so a default
    install does not publish its queue sizes to whoever asks."""
    token = settings.OTKLIK_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if (
        token
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    ):
        return True
    networks = settings.OTKLIK_METRICS_NETWORKS
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(n, strict=False) for n in networks)
    return False
