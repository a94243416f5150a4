"""A simulated PBX: sends signed call events over real HTTP, as a telephony provider does."""

import json
import urllib.request
from datetime import datetime, timedelta
from itertools import count

from otklik.telephony.signing import sign

_ids = count(1)


class Pbx:
    def __init__(self, post):
        """`post(body: bytes, signature: str) -> (status, json)`: the transport to use."""
        self.post = post
        self.start = datetime.fromisoformat("2027-03-01T10:00:00+03:00")

    def at(self, seconds: float) -> str:
        return (self.start + timedelta(seconds=seconds)).isoformat()

    def send(self, type_: str, call_id: str, seconds: float = 0, event_id: str = "", **fields):
        event = {
            "event_id": event_id or f"ev-{next(_ids)}",
            "type": type_,
            "call_id": call_id,
            "occurred_at": self.at(seconds),
            **fields,
        }
        body = json.dumps(event).encode()
        return self.post(body, sign(body))


def django_client_transport(client):
    def post(body: bytes, signature: str):
        response = client.post(
            "/api/telephony/events",
            data=body,
            content_type="application/json",
            HTTP_X_OTKLIK_SIGNATURE=signature,
        )
        return response.status_code, response.json()

    return post


def http_transport(base_url: str):
    def post(body: bytes, signature: str):
        request = urllib.request.Request(  # noqa: S310 - loopback test server
            base_url + "/api/telephony/events",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Otklik-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())

    return post
