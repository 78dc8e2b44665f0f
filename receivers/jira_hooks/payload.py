"""What Jira's webhook posts (jira:issue_updated with a changelog), checked and read (pure).

The request carries the receiver's webhook secret as `?secret=` in the URL
(Jira's admin screen can only set a URL) or in SECRET_HEADER, or Jira's
"sha256=<hex>" HMAC of the exact body under that secret in SIGNATURE_HEADER
(webhooks registered with a secret). All are compared in constant time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from receivers.vendor_webhooks import PayloadError, request_authentic

SECRET_HEADER = "X-Herald-Secret"  # noqa: S105 (a header's name, not a secret)
SIGNATURE_HEADER = "X-Hub-Signature"
# An issue's whole JSON with its fields; Jira's own payloads stay well under this.
BODY_LIMIT = 1024 * 1024
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,19}-[0-9]{1,12}")
_NAME_LIMIT = 200




@dataclass(frozen=True)
class IssueChange:
    event: str  # "jira:issue_updated", ...
    issue_key: str
    # The status it moved to ("" when the status did not change) and its category key.
    status: str
    status_category: str
    user_id: str  # accountId on Cloud, name (else key) on Data Center
    user_name: str  # for the audit trail: the email address, else the display name


def jira_request_authentic(
    *, secret: str, body: bytes, url_secret: str | None, header_secret: str | None,
    signature: str | None,
) -> bool:
    """Whether the request carries the receiver's secret, or the body's HMAC under it."""
    return request_authentic(secret=secret, body=body, given_secret=url_secret or header_secret,
                             signature=signature)


def _text(value: Any, limit: int = _NAME_LIMIT) -> str:
    return str(value).strip()[:limit] if isinstance(value, str | int) else ""


def issue_change_read(body: bytes) -> IssueChange:
    """The change the body describes, or PayloadError naming the wrong fields."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError({"body": "must be a JSON object"}) from None
    if not isinstance(payload, dict):
        raise PayloadError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not _ISSUE_KEY.fullmatch(_text(issue.get("key"), 40)):
        errors["issue.key"] = "must be the issue's key, like OPS-12"
        issue = {}
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    changelog = payload.get("changelog") if isinstance(payload.get("changelog"), dict) else {}
    items = changelog.get("items") if isinstance(changelog.get("items"), list) else []
    if len(items) > 200:
        errors["changelog.items"] = "must be at most 200 items"
    if errors:
        raise PayloadError(errors)
    moved = next((item for item in items if isinstance(item, dict)
                  and item.get("field") == "status"), None)
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    status = fields.get("status") if isinstance(fields.get("status"), dict) else {}
    category = status.get("statusCategory") if isinstance(status.get("statusCategory"),
                                                           dict) else {}
    return IssueChange(
        event=_text(payload.get("webhookEvent"), 64),
        issue_key=_text(issue.get("key"), 40),
        status=_text(moved.get("toString") or status.get("name")) if moved else "",
        status_category=_text(category.get("key"), 32) if moved else "",
        user_id=_text(user.get("accountId") or user.get("name") or user.get("key")),
        user_name=_text(user.get("emailAddress") or user.get("displayName")
                        or user.get("name") or user.get("accountId")),
    )
