"""ServiceNow (Table API on `incident`): one incident per alert group, updated, resolved, reopened.

The ticket is found again by its `correlation_id`, Herald's per-tenant hashed
key of the alert group (receivers.messages.group_dedup_key: 64 hex characters,
within the field's 100, naming no label). The incident number is not part of
it, so that a re-fire of the group within the reopen window finds the ticket it
resolved and reopens it; past the window (or once the ticket is Closed or
Canceled) a new ticket is opened under the same key.

- firing, no ticket for this incident yet: look it up by correlation_id (the
  newest first). Open (New, In Progress, On Hold): a work note. Resolved
  within `reopen_window_minutes`: reopened (state In Progress) with a work
  note. Otherwise a new incident: short_description and description from the
  sandboxed templates, impact and urgency from Herald's severity
  (IMPACT_URGENCY), the assignment group, caller and category of the settings.
- later messages of the incident (acknowledged, new alerts): a work note on
  the ticket the first one made (AlertMessage.thread_root_ref).
- resolved: state Resolved (6) with close_code and close_notes.

Herald's work notes start with WORK_NOTE_MARKER, and the sync back
(receivers.servicenow_hooks) ignores updates made by the integration
user, so what Herald writes never comes back to it as a person's change.

Errors: 401 and 403 are permanent (credentials or roles), 400 is permanent
with ServiceNow's own message ({"error": {"message", "detail"}}), 404 of the
incident a later message names falls back to the lookup, 429 is retried after
its Retry-After, 5xx are retried. Concurrent sends of one incident are
serialised by receivers.delivery.ticket_lock (`needs_ticket_lock`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from pydantic import Field, SecretStr, field_validator, model_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage, group_dedup_key
from receivers.severity import severity_level
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.http import http_request, response_json_object
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.truncation import truncate_text

TABLE_PATH = "/api/now/table/incident"
SHORT_DESCRIPTION_LIMIT = 160
TEXT_LIMIT = 4_000
WORK_NOTE_MARKER = "[Herald]"

# Incident states (the `state` choice list of the incident table).
NEW, IN_PROGRESS, ON_HOLD, RESOLVED, CLOSED, CANCELED = "1", "2", "3", "6", "7", "8"
OPEN_STATES = frozenset({NEW, IN_PROGRESS, ON_HOLD})

# Herald's severity -> (impact, urgency): 1 High, 2 Medium, 3 Low. ServiceNow's
# default priority matrix makes critical a P1, error a P3, warning a P4 and
# info (or no severity) a P5.
IMPACT_URGENCY: Mapping[str, tuple[str, str]] = {
    "critical": ("1", "1"),
    "error": ("2", "2"),
    "warning": ("2", "3"),
    "info": ("3", "3"),
    "none": ("3", "3"),
}

_FIELDS = "sys_id,number,state,resolved_at"
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_NAME_LIMIT = 100


class ServiceNowSettings(ChannelSettings):
    instance_url: HttpUrl = Field(
        description="The instance, https://<name>.service-now.com (no path)."
    )
    username: str = Field(
        "", max_length=_NAME_LIMIT,
        description="The integration user (with the itil role) for basic authentication; "
        "its updates are never synced back.",
    )
    password: SecretStr | None = Field(None, description="The integration user's password.")
    oauth_token: SecretStr | None = Field(
        None, description="An OAuth bearer token, instead of the user and password."
    )
    integration_user: str = Field(
        "", max_length=_NAME_LIMIT,
        description="The user name ServiceNow records as sys_updated_by for Herald's changes "
        "(default: username); the sync back ignores its updates.",
    )
    assignment_group: str = Field(
        "", max_length=_NAME_LIMIT, description="The assignment group's sys_id or name."
    )
    caller: str = Field("", max_length=_NAME_LIMIT, description="caller_id: a user's sys_id.")
    category: str = Field("", max_length=_NAME_LIMIT, description="The incident category.")
    close_code: str = Field(
        "Solution provided", min_length=1, max_length=_NAME_LIMIT,
        description="close_code when Herald resolves (a value of the instance's choice list).",
    )
    reopen_window_minutes: int = Field(
        1_440, ge=0, le=43_200,
        description="A re-fire reopens the ticket resolved this recently; 0 always opens anew.",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="The shared secret of the sync back (the Business Rule sends it, "
        "or signs the body with it); without it the sync back is refused.",
    )

    @field_validator("instance_url")
    @classmethod
    def _no_path(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 16 <= len(value.get_secret_value()) <= 200:
            raise ValueError("must be 16 to 200 characters")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> ServiceNowSettings:
        if self.oauth_token is not None and (self.username or self.password is not None):
            raise ValueError("set either oauth_token or username and password, not both")
        if self.oauth_token is None and not (self.username and self.password is not None):
            raise ValueError("set username and password, or oauth_token")
        return self

    def updated_by(self) -> str:
        """The name ServiceNow records for Herald's own changes."""
        return self.integration_user or self.username


def servicenow_impact_urgency(severity: str) -> tuple[str, str]:
    """(impact, urgency) for a Herald severity (pure)."""
    return IMPACT_URGENCY[severity_level(severity).name]


def work_note(text: str) -> str:
    """A work note as Herald writes it: marked, so nobody mistakes it for a person's (pure)."""
    return truncate_text(f"{WORK_NOTE_MARKER} {text.strip()}", TEXT_LIMIT)


def update_line(message: AlertMessage, *, language: str) -> str:
    """The sentence a work note opens with for a person's change in Herald; empty for none."""
    with translation.override(language):
        if message.group_update == "acknowledged":
            # ServiceNow's own word for it: an incident is "taken over" (pris en charge).
            return pgettext("servicenow work note", "Acknowledged in Herald by %(by)s.") % {
                "by": message.acknowledged_by or "?"}
        if message.group_update == "unacknowledged":
            return _("No longer acknowledged in Herald: the incident is open again.")
    return ""


def reopened_line(*, language: str) -> str:
    """The sentence a work note opens with when a re-fire reopens the incident."""
    with translation.override(language):
        return _("The alerts fire again: reopened by Herald.")


def incident_fields(
    *, rendered: RenderedMessage, message: AlertMessage, settings: ServiceNowSettings
) -> dict[str, str]:
    """The body of a new incident (pure)."""
    impact, urgency = servicenow_impact_urgency(rendered.severity)
    fields = {
        "short_description": truncate_text(
            " ".join(rendered["short_description"].split()), SHORT_DESCRIPTION_LIMIT
        ),
        "description": truncate_text(rendered["description"].strip(), TEXT_LIMIT),
        "correlation_id": group_dedup_key(message),
        "correlation_display": "Herald",
        "impact": impact,
        "urgency": urgency,
    }
    optional = {"assignment_group": settings.assignment_group, "caller_id": settings.caller,
                "category": settings.category}
    return {**fields, **{name: value for name, value in optional.items() if value}}


def resolve_fields(*, rendered: RenderedMessage, settings: ServiceNowSettings) -> dict[str, str]:
    """The update that resolves the incident (pure)."""
    return {
        "state": RESOLVED,
        "close_code": settings.close_code,
        "close_notes": truncate_text(rendered["close_notes"].strip(), TEXT_LIMIT),
        "work_notes": work_note(rendered["work_note"]),
    }


def reopens(record: Mapping[str, Any], *, window_minutes: int, now: datetime) -> bool:
    """Whether a Resolved incident is recent enough to reopen (pure).

    resolved_at comes as "YYYY-MM-DD HH:MM:SS" in UTC (the Table API's stored
    value, sysparm_display_value=false); unreadable means too old.
    """
    if str(record.get("state")) != RESOLVED or window_minutes <= 0:
        return False
    try:
        resolved = datetime.strptime(str(record.get("resolved_at")), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return now - resolved.replace(tzinfo=UTC) <= timedelta(minutes=window_minutes)


def _ref(record: Mapping[str, Any]) -> dict[str, str]:
    """The ticket's reference; its sys_id goes into later URLs, so only ServiceNow's shape."""
    sys_id = str(record.get("sys_id") or "")
    if not _SYS_ID.fullmatch(sys_id):
        raise TransportError("ServiceNow answered without the incident's sys_id", permanent=True)
    return {"sys_id": sys_id, "number": str(record.get("number") or "")[:40]}


class ServiceNowTransport(Transport):
    kind = "servicenow"
    label = "ServiceNow"
    settings_class = ServiceNowSettings
    parts = ("short_description", "description", "work_note", "close_notes")
    part_limits = {
        "short_description": PartLimit("ServiceNow (short description)", SHORT_DESCRIPTION_LIMIT),
        "description": PartLimit("ServiceNow (description)", TEXT_LIMIT),
        "work_note": PartLimit("ServiceNow (work note)", TEXT_LIMIT),
        "close_notes": PartLimit("ServiceNow (close notes)", TEXT_LIMIT),
    }
    # Acknowledgements and other changes become work notes on the incident's ticket.
    updates_in_place = True
    needs_ticket_lock: ClassVar[bool] = True

    def _headers(self) -> dict[str, str]:
        settings = self.settings
        if settings.oauth_token is not None:
            credential = f"Bearer {settings.secret('oauth_token')}"
        else:
            pair = f"{settings.username}:{settings.secret('password')}".encode()
            credential = f"Basic {base64.b64encode(pair).decode()}"
        return {"Authorization": credential, "Accept": "application/json"}

    def _call(
        self, method: str, path: str = "", *, json: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = http_request(
            method, f"{self.settings.instance_url}{TABLE_PATH}{path}",
            allow_private=self.allow_private, json=json, params=params,
            headers=self._headers(), timeout=self.settings.timeout_seconds,
        )
        self.raise_for_response(response)
        result = response_json_object(response).get("result")
        return result if isinstance(result, dict) else {"records": result or []}

    def _latest(self, correlation_id: str) -> dict[str, Any] | None:
        """The newest incident under the key, whatever its state."""
        found = self._call("GET", params={
            "sysparm_query": f"correlation_id={correlation_id}^ORDERBYDESCsys_created_on",
            "sysparm_fields": _FIELDS, "sysparm_limit": "1",
            "sysparm_display_value": "false", "sysparm_exclude_reference_link": "true",
        })
        records = found.get("records") or []
        return records[0] if records and isinstance(records[0], dict) else None

    def _update(self, sys_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
        return self._call("PATCH", f"/{sys_id}", json=dict(fields),
                          params={"sysparm_fields": _FIELDS})

    def _note(self, rendered: RenderedMessage, message: AlertMessage, lead: str = "") -> str:
        lead = lead or update_line(message, language=self.settings.language)
        return work_note(f"{lead}\n{rendered['work_note']}" if lead else rendered["work_note"])

    def _record(self, sys_id: str) -> dict[str, Any] | None:
        """The incident a previous message made; None when it was deleted."""
        try:
            return self._call("GET", f"/{sys_id}", params={
                "sysparm_fields": _FIELDS, "sysparm_display_value": "false",
            })
        except TransportError as exc:
            if exc.http_status != 404:
                raise
            return None

    def send(self, message: AlertMessage) -> SendResult:
        rendered = self.render(message)
        resolving = message.status == "resolved" or message.group_state == "resolved"
        root = message.thread_root_ref or {}
        root_id = str(root.get("sys_id") or "")
        record = self._record(root_id) if _SYS_ID.fullmatch(root_id) else None
        if record is None:
            record = self._latest(group_dedup_key(message))
        state = str(record.get("state")) if record else ""
        if record is not None and state in OPEN_STATES:
            fields = (resolve_fields(rendered=rendered, settings=self.settings) if resolving
                      else {"work_notes": self._note(rendered, message)})
            updated = self._update(str(record["sys_id"]), fields)
            return SendResult(http_status=200, vendor_ref=_ref({**record, **updated}))
        if resolving:
            # Nothing open to resolve: resolved or closed in ServiceNow already, or never made.
            return SendResult(http_status=200, vendor_ref=_ref(record) if record else None)
        if record is not None and reopens(
            record, window_minutes=self.settings.reopen_window_minutes, now=datetime.now(UTC)
        ):
            note = self._note(rendered, message, reopened_line(language=self.settings.language))
            updated = self._update(
                str(record["sys_id"]), {"state": IN_PROGRESS, "work_notes": note}
            )
            return SendResult(http_status=200, vendor_ref=_ref({**record, **updated}))
        created = self._call("POST", json=incident_fields(
            rendered=rendered, message=message, settings=self.settings
        ), params={"sysparm_fields": _FIELDS})
        return SendResult(http_status=201, vendor_ref=_ref(created))

    def raise_for_response(self, response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        error = response_json_object(response).get("error")
        said = ""
        if isinstance(error, dict):
            said = ": ".join(str(error.get(key) or "")[:200] for key in ("message", "detail")
                             if error.get(key))
        said = self.error_text(said or response.text)
        if status in (401, 403):
            raise TransportError(
                f"ServiceNow refused the credentials or roles (HTTP {status}): {said}",
                permanent=True, http_status=status,
            )
        if status == 429:
            raise TransportError(
                "ServiceNow rate limit (HTTP 429)", http_status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise TransportError(f"ServiceNow HTTP {status}: {said}", permanent=status < 500,
                             http_status=status)
