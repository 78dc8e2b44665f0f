"""Jira: one issue per incident, found again by a dedup key; commented on, resolved, reopened.

Cloud speaks REST v3 (descriptions and comments in the Atlassian Document
Format, Basic auth with an account's email and API token); Data Center speaks
v2 (plain text, a personal access token as Bearer). `api_version: auto` picks
Cloud for a host under atlassian.net, else Data Center.

The incident's dedup key ("herald-<hash>-<incident>") is kept in a label, or
in a custom text field when labels would flood the tenant's Jira. On firing,
a JQL search by that key skips the won't-fix statuses: an open issue gets a
comment, one done within the reopen window is reopened (its reopen
transition) and commented, otherwise an issue is created. Later messages of
the incident carry its key (AlertMessage.thread_root_ref) and skip the
search. A resolve takes the resolve transition; an issue offering no such
transition is a permanent failure naming the ones it offers. Concurrent
workers are serialised per incident by receivers.delivery.ticket_lock.

Herald's comments carry the `herald` comment property, and its changes are
made by its API user, whose webhooks the sync back ignores
(receivers.ticket_hooks.jira).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from pydantic import Field, SecretStr, field_validator, model_validator

from receivers.messages import AlertMessage
from receivers.severity import SEVERITIES
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.http import http_request
from receivers.transports.jira_import import JIRA_MAPPING
from receivers.transports.jira_requests import (
    SUMMARY_LIMIT,
    TEXT_LIMIT,
    jira_category,
    jira_comment_body,
    jira_dedup_key,
    jira_error_text,
    jira_issue_fields,
    jira_search_jql,
    jira_time,
    state_sentence,
    transition_matching,
)
from receivers.transports.settings import ChannelSettings, HttpUrl

DEFAULT_PRIORITIES = {
    "critical": "Highest", "error": "High", "warning": "Medium", "info": "Low", "none": "Lowest",
}
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
_CUSTOM_FIELD = re.compile(r"^customfield_[0-9]{1,10}$")
_LABEL = re.compile(r"^\S{1,255}$")


class JiraSettings(ChannelSettings):
    base_url: HttpUrl = Field(description="https://example.atlassian.net or your DC URL.")
    api_version: Literal["auto", "3", "2"] = Field(
        "auto", description="auto: Cloud (v3) under atlassian.net, else Data Center (v2)."
    )
    email: str = Field("", max_length=254, description="Cloud: the API user's email address.")
    api_token: SecretStr | None = Field(None, description="Cloud: the API user's API token.")
    personal_access_token: SecretStr | None = Field(
        None, description="Data Center: a personal access token (sent as Bearer)."
    )
    project_key: str = Field(description="The project issues are created in: OPS.")
    issue_type: str = Field("Task", min_length=1, max_length=60)
    components: list[str] = Field(default_factory=list, max_length=20)
    labels: list[str] = Field(default_factory=list, max_length=20)
    priorities: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="Herald severity -> Jira priority name; an empty name sets none.",
    )
    dedup_field: str = Field(
        "", description="A custom text field id (customfield_10050) for the dedup key; "
        "empty: a label.",
    )
    reopen_window_hours: float = Field(
        72, ge=0, le=24 * 90, description="An issue done this recently is reopened; 0: never."
    )
    resolve_transition: str = Field("Done", min_length=1, max_length=100)
    reopen_transition: str = Field("Reopen", min_length=1, max_length=100)
    skip_statuses: list[str] = Field(
        default_factory=lambda: ["Won't Fix", "Won't Do", "Declined"], max_length=20,
        description="Statuses never commented on or reopened (won't-fix).",
    )
    acknowledged_statuses: list[str] = Field(
        default_factory=list, max_length=20,
        description="Sync back: moving an issue to one of these acknowledges the incident.",
    )
    herald_user: str = Field(
        "", max_length=200, description="Sync back: Herald's API user (accountId on Cloud, "
        "name on DC), whose changes are ignored; empty: asked of /myself.",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Sync back: the secret of the Jira webhook's URL (?secret=...)."
    )

    @field_validator("project_key")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not _PROJECT_KEY.match(value):
            raise ValueError("must be a Jira project key: capital letters and digits, like OPS")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        if any(not _LABEL.match(label) for label in value):
            raise ValueError("a Jira label has no spaces and at most 255 characters")
        return value

    @field_validator("components", "skip_statuses", "acknowledged_statuses")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() or len(name) > 100 for name in value):
            raise ValueError("each name is 1 to 100 characters")
        return value

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(SEVERITIES))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a severity ({', '.join(SEVERITIES)})")
        if any(len(name) > 60 for name in value.values()):
            raise ValueError("a priority name is at most 60 characters")
        return value

    @field_validator("dedup_field")
    @classmethod
    def _dedup_field(cls, value: str) -> str:
        if value and not _CUSTOM_FIELD.match(value):
            raise ValueError("must be a custom field id like customfield_10050, or empty")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> JiraSettings:
        if self.personal_access_token is None and not (self.email and self.api_token):
            raise ValueError(
                "give email and api_token (Jira Cloud) or personal_access_token (Data Center)"
            )
        return self

    @property
    def cloud(self) -> bool:
        if self.api_version == "auto":
            return (urlsplit(self.base_url).hostname or "").endswith(".atlassian.net")
        return self.api_version == "3"


class JiraTransport(Transport):
    kind = "jira"
    label = "Jira"
    settings_class = JiraSettings
    parts = ("summary", "description", "comment")
    part_limits = {
        "summary": PartLimit("Jira (summary)", SUMMARY_LIMIT),
        "description": PartLimit("Jira (description)", TEXT_LIMIT),
        "comment": PartLimit("Jira (comment)", TEXT_LIMIT),
    }
    # Hears of acknowledgements and resolves (comments), and gets the issue's key.
    supports_acknowledge = True
    updates_in_place = True
    needs_ticket_lock = True
    alertmanager = (JIRA_MAPPING,)

    # -- HTTP -------------------------------------------------------------
    @property
    def _api(self) -> str:
        version = "3" if self.settings.cloud else "2"
        return f"{self.settings.base_url.rstrip('/')}/rest/api/{version}"

    def _headers(self) -> dict[str, str]:
        if self.settings.personal_access_token is not None and not (
            self.settings.cloud and self.settings.api_token is not None
        ):
            auth = f"Bearer {self.settings.secret('personal_access_token')}"
        else:
            pair = f"{self.settings.email}:{self.settings.secret('api_token')}".encode()
            auth = f"Basic {base64.b64encode(pair).decode()}"
        return {"Authorization": auth, "Accept": "application/json"}

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, str] | None = None) -> requests.Response:
        response = http_request(
            method, self._api + path, allow_private=self.allow_private, json=json,
            params=params, headers=self._headers(), timeout=self.settings.timeout_seconds,
        )
        self.raise_for_response(response)
        return response

    def raise_for_response(self, response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in (401, 403):
            said = "the credentials were refused" if status == 401 else "permission denied"
            raise TransportError(f"Jira: {said} (HTTP {status})", permanent=True,
                                 http_status=status)
        raise TransportError(
            f"Jira refused the request (HTTP {status}): "
            f"{self.error_text(jira_error_text(response))}",
            permanent=not (status == 429 or status >= 500), http_status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def myself(self) -> str:
        """Herald's API user as Jira's webhooks name it (accountId on Cloud, name on DC)."""
        body = self.call("GET", "/myself").json()
        return str(body.get("accountId") or body.get("name") or body.get("key") or "")

    # -- the incident's issue ------------------------------------------------
    def issue_find(self, dedup_key: str) -> dict[str, Any] | None:
        """The newest issue with the key, not won't-fix; open first, else done."""
        jql = jira_search_jql(settings=self.settings, dedup_key=dedup_key)
        fields = ["status", "resolutiondate", *filter(None, [self.settings.dedup_field])]
        path = "/search/jql" if self.settings.cloud else "/search"
        body = self.call("POST", path, json={"jql": jql, "fields": fields, "maxResults": 20})
        issues = [i for i in body.json().get("issues") or [] if isinstance(i, dict)]
        if self.settings.dedup_field:
            issues = [i for i in issues
                      if (i.get("fields") or {}).get(self.settings.dedup_field) == dedup_key]
        open_ = [i for i in issues if jira_category(i) != "done"]
        return (open_ or issues or [None])[0]

    def comment(self, key: str, text: str, message: AlertMessage) -> None:
        body = jira_comment_body(
            settings=self.settings, text=text, notification_id=message.notification_id
        )
        self.call("POST", f"/issue/{quote(key)}/comment", json=body)

    def transition(self, key: str, name: str) -> None:
        """Take the transition named `name`; a permanent failure naming the offered ones."""
        offered = self.call("GET", f"/issue/{quote(key)}/transitions").json()
        transitions = [t for t in offered.get("transitions") or [] if isinstance(t, dict)]
        chosen = transition_matching(transitions, name)
        if chosen is None:
            names = ", ".join(str(t.get("name")) for t in transitions) or "none"
            raise TransportError(
                self.error_text(f"Jira issue {key} has no transition {name!r}; it offers: {names}"),
                permanent=True,
            )
        self.call("POST", f"/issue/{quote(key)}/transitions",
                  json={"transition": {"id": str(chosen.get("id"))}})

    def _status_category(self, key: str) -> str:
        issue = self.call("GET", f"/issue/{quote(key)}", params={"fields": "status"}).json()
        return jira_category(issue)

    # -- the send ------------------------------------------------------------
    def send(self, message: AlertMessage) -> SendResult:
        rendered = self.render(message)
        language = self.settings.language
        known = (message.thread_root_ref or {}).get("issue_key")
        comment = f"{state_sentence(message, language)}\n\n{rendered['comment']}"
        if message.status == "resolved":
            key = known or self._found_key(jira_dedup_key(message))
            if key is None:  # nothing was ever opened (a resolve alone): nothing to close
                return SendResult(http_status=200)
            self.comment(key, comment, message)
            if self._status_category(key) != "done":
                self.transition(key, self.settings.resolve_transition)
            return SendResult(http_status=200, vendor_ref={"issue_key": key})
        if known:
            try:
                self.comment(known, comment, message)
                return SendResult(http_status=200, vendor_ref={"issue_key": known})
            except TransportError as exc:
                if exc.http_status != 404:
                    raise
                # The issue was deleted (or moved out of sight) in Jira: find or open another.
        dedup_key = jira_dedup_key(message)
        issue = self.issue_find(dedup_key)
        if issue is not None and jira_category(issue) != "done":
            self.comment(issue["key"], comment, message)
            return SendResult(http_status=200, vendor_ref={"issue_key": issue["key"]})
        if issue is not None and self._reopenable(issue):
            self.transition(issue["key"], self.settings.reopen_transition)
            again = state_sentence(message, language, reopened=True)
            self.comment(issue["key"], f"{again}\n\n{rendered['comment']}", message)
            return SendResult(http_status=200, vendor_ref={"issue_key": issue["key"]})
        fields = jira_issue_fields(
            settings=self.settings, summary=rendered["summary"],
            description=rendered["description"], severity=rendered.severity, dedup_key=dedup_key,
        )
        created = self.call("POST", "/issue", json={"fields": fields})
        body = created.json()
        return SendResult(http_status=created.status_code,
                          vendor_ref={"issue_key": str(body.get("key")),
                                      "issue_id": str(body.get("id", ""))})

    def _found_key(self, dedup_key: str) -> str | None:
        issue = self.issue_find(dedup_key)
        return None if issue is None else str(issue["key"])

    def _reopenable(self, issue: Mapping[str, Any]) -> bool:
        """Done within the reopen window (by its resolution date)."""
        when = jira_time((issue.get("fields") or {}).get("resolutiondate"))
        if not self.settings.reopen_window_hours or when is None:
            return False
        return datetime.now(UTC) - when <= timedelta(hours=self.settings.reopen_window_hours)
