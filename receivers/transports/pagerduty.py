"""PagerDuty Events API v2: trigger, acknowledge and resolve one alert per group.

The dedup_key is the same for every event of an alert group, so the resolve
closes the incident the trigger opened. PagerDuty answers 202 when it
accepted the event, 400 for an invalid one (not retried), 429 when throttled.
Limits: summary 1,024 characters, dedup_key 255, the whole event 512 KB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage, group_dedup_key
from receivers.severity import pagerduty_severity
from receivers.transports.alertmanager import (
    AlertmanagerMapping,
    ImportedReceiver,
    not_imported,
)
from receivers.transports.base import PartLimit, SendResult, Transport
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.truncation import truncate_text

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_LIMIT = 1_024
SOURCE_LIMIT = 255
EVENT_LIMIT = 512 * 1024


class PagerDutySettings(ChannelSettings):
    routing_key: SecretStr = Field(description="The integration (routing) key, 32 characters.")
    events_url: HttpUrl = Field(
        EVENTS_URL, description="Events API v2 endpoint; EU accounts use events.eu.pagerduty.com."
    )
    source: str = Field(
        "", description="payload.source; default: Alertmanager's host, else 'herald'."
    )
    client: str = Field("Herald", description="Shown in PagerDuty as the sender.")


def _source(message: AlertMessage, configured: str) -> str:
    if configured:
        return configured
    labels = message.common_labels
    return labels.get("instance") or labels.get("job") or _host(message.external_url) or "herald"


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _custom_details(message: AlertMessage) -> dict[str, Any]:
    return {
        "firing": [a["labels"] for a in message.alerts if a.get("status") == "firing"],
        "resolved": [a["labels"] for a in message.alerts if a.get("status") == "resolved"],
        "num_firing": sum(1 for a in message.alerts if a.get("status") == "firing"),
        "num_resolved": sum(1 for a in message.alerts if a.get("status") == "resolved"),
        "group_labels": message.group_labels,
        "common_labels": message.common_labels,
        "common_annotations": message.common_annotations,
        "truncated_alerts": message.truncated_alerts,
    }


def pagerduty_event(
    *, rendered: RenderedMessage, message: AlertMessage, settings: PagerDutySettings
) -> dict[str, Any]:
    """The Events API v2 body (pure)."""
    event: dict[str, Any] = {
        "routing_key": settings.secret("routing_key"),
        "dedup_key": group_dedup_key(message),
    }
    if message.status == "resolved":
        return {**event, "event_action": "resolve"}
    if message.acknowledged:
        return {**event, "event_action": "acknowledge"}
    event.update(
        event_action="trigger",
        client=settings.client,
        payload={
            "summary": truncate_text(" ".join(rendered["summary"].split()), SUMMARY_LIMIT),
            "source": truncate_text(_source(message, settings.source), SOURCE_LIMIT),
            "severity": pagerduty_severity(rendered.severity),
            "custom_details": _custom_details(message),
        },
        # With Herald's action pages for what PagerDuty's own buttons cannot do
        # (silence the alerts at the source, resolve them in Herald).
        links=[
            {"href": link.url, "text": link.label}
            for link in [*rendered.links,
                         *(a for a in rendered.action_links if a.kind != "acknowledge")]
        ],
    )
    if message.external_url:
        event["client_url"] = message.external_url
    if len(json.dumps(event).encode()) > EVENT_LIMIT:
        # Thousands of alerts in one group: the counts still tell the story.
        details = event["payload"]["custom_details"]
        details["firing"] = details["resolved"] = "too many alerts to list"
    return event


def pagerduty_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    if not entry.get("routing_key"):
        if entry.get("service_key"):
            return not_imported("service_key is an Events API v1 key; Herald uses Events API "
                                "v2: create a v2 integration and use its routing key")
        return not_imported("no routing_key")
    url = entry.get("url") or globals.get("pagerduty_url") or EVENTS_URL
    source = str(entry.get("source") or "")
    notes = []
    if "{{" in source:
        notes.append("source is a Go template; not imported")
        source = ""
    return ImportedReceiver(
        config={"events_url": url if url.rstrip("/") != EVENTS_URL else None,
                "client": entry.get("client"), "source": source},
        secrets={"routing_key": entry["routing_key"]},
        notes=notes,
    )


class PagerDutyTransport(Transport):
    kind = "pagerduty"
    label = "PagerDuty"
    supports_acknowledge = True
    settings_class = PagerDutySettings
    parts = ("summary",)
    part_limits = {"summary": PartLimit("PagerDuty (summary)", SUMMARY_LIMIT)}
    alertmanager = (
        AlertmanagerMapping(
            key="pagerduty_configs",
            mapper=pagerduty_from_alertmanager,
            send_resolved_default=True,
            reads=("routing_key", "routing_key_file", "service_key", "service_key_file",
                   "url", "client", "source"),
            templated=("description", "details", "severity", "class", "component", "group",
                       "links", "images", "client_url"),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        event = pagerduty_event(
            rendered=self.render(message), message=message, settings=self.settings
        )
        response = self.post(self.settings.events_url, json=event)
        return SendResult(http_status=response.status_code)
