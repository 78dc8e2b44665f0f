"""What ServiceNow's Business Rule posts, checked and read (pure).

The rule sends JSON: {"sys_id", "number", "state", "assigned_to",
"sys_updated_by", "work_notes"} of the incident after the update, with either
the receiver's webhook secret in SECRET_HEADER or "sha256=<hex>" in
SIGNATURE_HEADER, the HMAC-SHA256 of the exact body under that secret. Both
are compared in constant time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from receivers.vendor_webhooks import PayloadError, request_authentic

SECRET_HEADER = "X-Herald-Secret"  # noqa: S105 (a header's name, not a secret)
SIGNATURE_HEADER = "X-Herald-Signature"
BODY_LIMIT = 64 * 1024
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_STATE = re.compile(r"[0-9]{1,2}")
_NAME_LIMIT = 200




@dataclass(frozen=True)
class IncidentChange:
    sys_id: str
    number: str
    state: str
    assigned_to: str
    updated_by: str
    work_notes: str


def servicenow_request_authentic(
    *, secret: str, body: bytes, shared_secret: str | None, signature: str | None
) -> bool:
    """Whether the request carries the receiver's secret, or the body's HMAC under it."""
    return request_authentic(secret=secret, body=body, given_secret=shared_secret,
                             signature=signature)


def _text(payload: dict[str, Any], name: str, errors: dict[str, str], *, limit: int) -> str:
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str | int):
        errors[name] = "must be a string"
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors[name] = f"must be at most {limit} characters"
    return text[:limit]


def incident_change_read(body: bytes) -> IncidentChange:
    """The change the body describes, or PayloadError naming the wrong fields."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError({"body": "must be a JSON object"}) from None
    if not isinstance(payload, dict):
        raise PayloadError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    sys_id = _text(payload, "sys_id", errors, limit=32)
    if "sys_id" not in errors and not _SYS_ID.fullmatch(sys_id):
        errors["sys_id"] = "must be the incident's sys_id (32 hexadecimal characters)"
    state = _text(payload, "state", errors, limit=2)
    if "state" not in errors and not _STATE.fullmatch(state):
        errors["state"] = "must be the incident's state value (1 New ... 7 Closed)"
    change = IncidentChange(
        sys_id=sys_id,
        number=_text(payload, "number", errors, limit=40),
        state=state,
        assigned_to=_text(payload, "assigned_to", errors, limit=_NAME_LIMIT),
        updated_by=_text(payload, "sys_updated_by", errors, limit=_NAME_LIMIT),
        work_notes=_text(payload, "work_notes", errors, limit=BODY_LIMIT),
    )
    if errors:
        raise PayloadError(errors)
    return change
