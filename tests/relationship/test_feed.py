"""The feed: every row checked, bad rows named by line, nothing of a bad batch applied."""

import pytest
from django.urls import reverse

from otklik.relationship.feed import FeedRejected, feed_upload_csv
from otklik.relationship.models import FeedBatch, HealthSummary, MetricValue
from tests.relationship.conftest import premium_client


def _csv(*lines: str) -> bytes:
    return ("\n".join(["client_id,metric,period,value", *lines]) + "\n").encode()


def test_bad_row_is_reported_by_line_and_nothing_is_applied(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    data = _csv(
        f"{a.pk},card_spend,2026-12,87600",
        f"{a.pk},uses_app,2026-12,1",
        f"{a.pk},card_spend,2026-13,5",  # line 4: no 13th month
        "999999,balance,2026-12-03,10",  # line 5: no such client
    )
    with pytest.raises(FeedRejected) as info:
        feed_upload_csv(data=data)
    assert [(e.line, e.field) for e in info.value.errors] == [(4, "period"), (5, "client_id")]
    assert not MetricValue.objects.exists() and not FeedBatch.objects.exists()


def test_good_file_applies_recomputes_and_is_applied_once(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    data = _csv(f"{a.pk};card_spend;2026-12;87 600".replace(",", ";")).replace(b",", b";")
    result = feed_upload_csv(data=data)
    assert (result.rows, result.clients, result.recomputed) == (1, 1, 1)
    assert HealthSummary.objects.get(client=a).fee_shortfall == 12400
    again = feed_upload_csv(data=data)
    assert again.replayed and MetricValue.objects.count() == 1


def test_flag_and_header_errors(desk, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    with pytest.raises(FeedRejected) as info:
        feed_upload_csv(data=_csv(f"{a.pk},uses_app,2026-12,maybe", "x,nope,2026-12,1"))
    assert [(e.line, e.field) for e in info.value.errors] == [
        (2, "value"),
        (3, "client_id"),
        (3, "metric"),
    ]
    from otklik.common.errors import ServiceError

    with pytest.raises(ServiceError):
        feed_upload_csv(data=b"client,metric\n1,2\n")


def test_upload_page_shows_line_numbers(client, desk, cast, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    client.force_login(cast.sue)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile(
        "feed.csv", _csv(f"{a.pk},card_spend,2026-12,87600", f"{a.pk},card_spend,2026-12,abc")
    )
    response = client.post(reverse("relationship:feed"), {"file": bad})
    assert response.status_code == 422
    assert 'data-line="3"' in response.content.decode()
    assert not MetricValue.objects.exists()


def test_upload_page_is_for_supervisors(client, desk, cast):
    client.force_login(cast.pavel)
    assert client.get(reverse("relationship:feed")).status_code == 403


def test_api_feed_batch_is_idempotent_and_rejects_bad_rows(client, desk, cast, fixed_today):
    a = premium_client(desk.pavel, desk.platinum)
    client.force_login(cast.sue)
    url = "/api/desk/feed"
    bad = {
        "batch_id": "bo-2026-12-03",
        "rows": [
            {"client_id": a.pk, "metric": "card_spend", "period": "2026-12", "value": 87600},
            {"client_id": a.pk, "metric": "wat", "period": "2026-12", "value": 1},
        ],
    }
    r = client.post(url, bad, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "payload", "rows", 1, "metric"]
    assert not MetricValue.objects.exists()

    good = {**bad, "rows": bad["rows"][:1]}
    r = client.post(url, good, content_type="application/json")
    assert r.status_code == 200 and r.json()["replayed"] is False
    r = client.post(url, good, content_type="application/json")
    assert r.status_code == 200 and r.json()["replayed"] is True
    assert MetricValue.objects.count() == 1

    client.force_login(cast.pavel)
    assert client.post(url, good, content_type="application/json").status_code == 403
    health = client.get(f"/api/desk/clients/{a.pk}/health").json()
    assert health["fee_shortfall"] == "12400.00" or float(health["fee_shortfall"]) == 12400
