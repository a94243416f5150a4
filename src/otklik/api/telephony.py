"""The call-event endpoint for the PBX: POST /api/telephony/events (telephony app).

Signed with HMAC (see `signing`), idempotent by `event_id`: a retried event is answered
200 with `"duplicate": true` and changes nothing.
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import APIKeyHeader

from otklik.api.schemas import READ_ERRORS, ValidationErrorOut
from otklik.telephony import signing
from otklik.telephony.services import CallEventData, call_event_apply


class PbxSignature(APIKeyHeader):
    """`X-Otklik-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the
    install's OTKLIK_CTI_SECRET."""

    param_name = "X-Otklik-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> str | None:
        try:
            signing.verify(key or "", request.body)
        except signing.BadSignature:
            return None
        return "pbx"


router = Router(tags=["telephony"], auth=PbxSignature())

EXAMPLES = {
    "ringing": {
        "summary": "A call rings at extension 101",
        "value": {
            "event_id": "pbx-7f3a-0001",
            "type": "ringing",
            "call_id": "7f3a",
            "occurred_at": "2027-03-01T10:15:00+03:00",
            "direction": "inbound",
            "caller": "+7 916 123-45-67",
            "callee": "88001234567",
            "line": "88001234567",
            "extension": "101",
        },
    },
    "answered": {
        "summary": "The operator picks up",
        "value": {
            "event_id": "pbx-7f3a-0002",
            "type": "answered",
            "call_id": "7f3a",
            "occurred_at": "2027-03-01T10:15:06+03:00",
            "extension": "101",
        },
    },
    "transfer": {
        "summary": "Transferred to extension 102",
        "value": {
            "event_id": "pbx-7f3a-0003",
            "type": "transfer",
            "call_id": "7f3a",
            "occurred_at": "2027-03-01T10:17:00+03:00",
            "transfer_to": "102",
        },
    },
    "hangup": {
        "summary": "Hang-up with the recording",
        "value": {
            "event_id": "pbx-7f3a-0004",
            "type": "hangup",
            "call_id": "7f3a",
            "occurred_at": "2027-03-01T10:21:40+03:00",
            "recording_url": "https://pbx.example/rec/7f3a.mp3",
        },
    },
}


class CallEventIn(Schema):
    event_id: str = Field(
        min_length=1, max_length=100, description="Unique per event; retries repeat it"
    )
    type: Literal["ringing", "answered", "hold", "unhold", "transfer", "hangup"]
    call_id: str = Field(min_length=1, max_length=100, description="The PBX's id of the call")
    occurred_at: datetime = Field(description="When it happened at the PBX (with offset)")
    direction: Literal["inbound", "outbound"] = "inbound"
    caller: str = Field("", max_length=40, description="Calling number")
    callee: str = Field("", max_length=40, description="Called number")
    line: str = Field("", max_length=32, description="The line (dialled service number)")
    extension: str = Field("", max_length=20, description="Operator's extension it rings at")
    transfer_to: str = Field("", max_length=20, description="New extension, for transfer")
    recording_url: str = Field("", max_length=500, description="Link to the recording (hang-up)")


class CallEventOut(Schema):
    call_id: str
    status: str
    duplicate: bool


@router.post(
    "/telephony/events",
    response={200: CallEventOut, 201: CallEventOut, 400: ValidationErrorOut, **READ_ERRORS},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"examples": EXAMPLES}}},
    },
    summary="Post a call event (PBX / telephony provider)",
)
def call_event(request: HttpRequest, payload: CallEventIn):
    """One call event: new call (ringing), answered, hold/unhold, transfer, hang-up.

    A ringing inbound call pops the client card found by the caller's number on the
    screen of the operator at `extension`; a hang-up of an unanswered call puts it on the
    callback list. 201 for a new event, 200 with `duplicate: true` for a repeated one.
    """
    call, created = call_event_apply(event=CallEventData(**payload.dict()))
    body = {"call_id": call.call_id, "status": call.status, "duplicate": not created}
    return Status(201 if created else 200, body)
