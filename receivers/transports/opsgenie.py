"""Opsgenie Alert API: create an alert per alert group, close it by alias.

Create is POST /v2/alerts; close is POST /v2/alerts/{alias}/close with
identifierType=alias. Both authenticate with `Authorization: GenieKey <key>`
and answer 202 (the request is processed asynchronously). Limits: message 130
characters, alias 512, description 15,000, at most 20 tags of 50 characters,
details 8,000 characters in all, source 100, note 25,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage, group_dedup_key
from receivers.severity import opsgenie_priority
from receivers.transports.alertmanager import (
    AlertmanagerMapping,
    ImportedReceiver,
    not_imported,
    split_list,
)
from receivers.transports.base import PartLimit, SendResult, Transport
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.truncation import truncate_text

API_URLS = {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}
MESSAGE_LIMIT = 130
DESCRIPTION_LIMIT = 15_000
NOTE_LIMIT = 25_000
MAX_TAGS = 20
TAG_LIMIT = 50
DETAILS_LIMIT = 8_000
SOURCE = "Herald"


class Responder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["team", "user", "escalation", "schedule"]
    id: str | None = None
    name: str | None = None
    username: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if not (self.id or self.name or self.username):
            raise ValueError("a responder needs an id, a name or a username")
        return self


class OpsgenieSettings(ChannelSettings):
    api_key: SecretStr = Field(description="The API integration's key (sent as GenieKey).")
    region: Literal["us", "eu"] = Field("us", description="Which Opsgenie instance.")
    api_url: HttpUrl | None = Field(None, description="Overrides the region's API base URL.")
    responders: list[Responder] = Field(default_factory=list, description="Who to notify.")
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS, description="Extra tags.")
    priorities: dict[str, Literal["P1", "P2", "P3", "P4", "P5"]] = Field(
        default_factory=dict,
        description="Severity (any spelling: critical, crit, p1…) → priority, over the defaults.",
    )

    @property
    def base_url(self) -> str:
        return (self.api_url or API_URLS[self.region]).rstrip("/")


def _details(message: AlertMessage, rendered: RenderedMessage) -> dict[str, str]:
    """Common labels and links as details, cut to the 8,000-character budget."""
    candidates = {
        **{k: str(v) for k, v in sorted(message.common_labels.items())},
        **{f"link_{link.kind}": link.url for link in rendered.links},
        "tenant": message.tenant_slug,
    }
    details: dict[str, str] = {}
    used = 0
    for key, value in candidates.items():
        size = len(key) + len(value)
        if used + size > DETAILS_LIMIT:
            break
        details[key] = value
        used += size
    return details


def _tags(message: AlertMessage, settings: OpsgenieSettings, severity: str) -> list[str]:
    tags = [*settings.tags, f"severity:{severity}"]
    tags += [f"{k}:{v}" for k, v in sorted(message.group_labels.items())]
    unique = list(dict.fromkeys(truncate_text(tag, TAG_LIMIT) for tag in tags if tag))
    return unique[:MAX_TAGS]


def opsgenie_create_alert(
    *, rendered: RenderedMessage, message: AlertMessage, settings: OpsgenieSettings
) -> dict[str, Any]:
    """The create-alert body (pure)."""
    body: dict[str, Any] = {
        "message": truncate_text(" ".join(rendered["message"].split()), MESSAGE_LIMIT),
        "alias": group_dedup_key(message),
        "description": truncate_text(rendered["description"], DESCRIPTION_LIMIT),
        "priority": opsgenie_priority(rendered.severity, settings.priorities),
        "tags": _tags(message, settings, rendered.severity),
        "details": _details(message, rendered),
        "source": SOURCE,
    }
    if settings.responders:
        body["responders"] = [r.model_dump(exclude_none=True) for r in settings.responders]
    return body


def opsgenie_close_alert(*, rendered: RenderedMessage) -> dict[str, Any]:
    """The close-alert body (pure): the resolved text as the note."""
    note = f"{rendered['message']}\n\n{rendered['description']}"
    return {"source": SOURCE, "note": truncate_text(note, NOTE_LIMIT)}


def opsgenie_request(
    *, rendered: RenderedMessage, message: AlertMessage, settings: OpsgenieSettings
) -> tuple[str, dict[str, Any]]:
    """Path (below the API base URL) and body for this notification (pure)."""
    alias = group_dedup_key(message)
    if message.status == "resolved":
        return f"/v2/alerts/{alias}/close?identifierType=alias", opsgenie_close_alert(
            rendered=rendered
        )
    if message.acknowledged:
        return f"/v2/alerts/{alias}/acknowledge?identifierType=alias", {"source": SOURCE}
    return "/v2/alerts", opsgenie_create_alert(
        rendered=rendered, message=message, settings=settings
    )


def opsgenie_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    api_key = entry.get("api_key") or globals.get("opsgenie_api_key")
    if not api_key:
        return not_imported("no api_key (nor global opsgenie_api_key)")
    api_url = str(entry.get("api_url") or globals.get("opsgenie_api_url") or "").rstrip("/")
    notes = []
    responders = []
    for responder in entry.get("responders") or []:
        kind = str(responder.get("type", ""))
        if kind not in ("team", "user", "escalation", "schedule"):
            notes.append(f"responder type {kind!r} is not imported")
            continue
        responders.append({
            "type": kind, **{k: str(responder[k]) for k in ("id", "name", "username")
                             if responder.get(k)},
        })
    tags = split_list(entry.get("tags"))
    if any("{{" in tag for tag in tags):
        notes.append("tags are a Go template; not imported")
        tags = []
    return ImportedReceiver(
        config={
            "region": "eu" if api_url == API_URLS["eu"] else "us",
            "api_url": api_url if api_url not in (*API_URLS.values(), "") else None,
            "responders": responders,
            "tags": tags,
        },
        secrets={"api_key": api_key},
        notes=notes,
    )


class OpsgenieTransport(Transport):
    kind = "opsgenie"
    label = "Opsgenie"
    supports_acknowledge = True
    settings_class = OpsgenieSettings
    parts = ("message", "description")
    part_limits = {
        "message": PartLimit("Opsgenie (message)", MESSAGE_LIMIT),
        "description": PartLimit("Opsgenie (description)", DESCRIPTION_LIMIT),
    }
    alertmanager = (
        AlertmanagerMapping(
            key="opsgenie_configs",
            mapper=opsgenie_from_alertmanager,
            send_resolved_default=True,
            reads=("api_key", "api_key_file", "api_url", "responders", "tags"),
            templated=("message", "description", "details", "entity", "actions", "note",
                       "priority", "source"),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        path, body = opsgenie_request(
            rendered=self.render(message), message=message, settings=self.settings
        )
        response = self.post(
            self.settings.base_url + path,
            json=body,
            headers={"Authorization": f"GenieKey {self.settings.secret('api_key')}"},
        )
        return SendResult(http_status=response.status_code)
