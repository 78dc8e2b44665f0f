"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card.

The Workflows "post to a channel when a webhook request is received" flow
takes a message with an Adaptive Card attachment; the retired Office 365
connector MessageCard format is not used. Teams refuses messages over about
28 KB, so the card's body text gets whatever room the rest leaves.

A firing card's buttons are `Action.OpenUrl` to Herald's signed action
pages (acknowledge, resolve, silence 1 h): they open a browser, so they work
from a Workflows webhook with no bot. What Teams cannot do without a bot is
change the card afterwards: a webhook post returns no message id, and only a
bot (Bot Framework, with an app registered in the tenant's Entra ID) may
update or reply to its own message. So an acknowledgement is not shown on
the card; the resolve arrives as a new card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.severity import teams_style
from receivers.transports.alertmanager import AlertmanagerMapping, ImportedReceiver
from receivers.transports.base import PartLimit, SendResult, Transport
from receivers.transports.settings import ChannelSettings, SecretUrl
from receivers.truncation import json_length, truncate_text

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
MESSAGE_LIMIT_BYTES = 27_000  # Teams' limit is ~28 KB; keep a margin for its envelope.
TITLE_LIMIT = 500
MAX_FACTS = 20
FACT_LIMIT = 500
# Teams shows six top-level card actions; Herald's come first.
MAX_ACTIONS = 6
CARD_ACTIONS = ("acknowledge", "resolve", "silence_1h")
URL_LIMIT = 2_000


class TeamsSettings(ChannelSettings):
    url: SecretUrl = Field(description="The workflow's HTTP trigger URL.")


def _card(rendered: RenderedMessage, message: AlertMessage, body: str) -> dict[str, Any]:
    resolved = message.status == "resolved"
    facts = [
        {"title": name, "value": truncate_text(str(value), FACT_LIMIT)}
        for name, value in sorted(message.common_labels.items())
    ][:MAX_FACTS]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": [
            {
                "type": "Container",
                "style": teams_style(rendered.severity, resolved=resolved),
                "bleed": True,
                "items": [
                    {
                        "type": "TextBlock",
                        "text": truncate_text(rendered["title"], TITLE_LIMIT),
                        "size": "Large",
                        "weight": "Bolder",
                        "wrap": True,
                    }
                ],
            },
            {"type": "TextBlock", "text": body, "wrap": True},
        ],
    }
    if facts:
        card["body"].append({"type": "FactSet", "facts": facts})
    herald = [link for link in rendered.action_links if link.kind in CARD_ACTIONS]
    # The action page acknowledges as /ack/ does: one Acknowledge button, not two.
    others = [link for link in rendered.links if not (herald and link.kind == "acknowledge")]
    actions = [
        {"type": "Action.OpenUrl", "title": link.label, "url": link.url,
         **({"style": "positive"} if link.kind == "acknowledge" else {})}
        for link in [*herald, *others]
        if len(link.url) <= URL_LIMIT
    ][:MAX_ACTIONS]
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def msteams_payload(*, rendered: RenderedMessage, message: AlertMessage) -> dict[str, Any]:
    """The Workflows webhook body (pure), at most MESSAGE_LIMIT_BYTES as sent."""
    frame = len(json.dumps(_card(rendered, message, "")))
    body = truncate_text(rendered["body"], MESSAGE_LIMIT_BYTES - frame, length=json_length)
    return _card(rendered, message, body)


def msteams_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    return ImportedReceiver(
        secrets={"url": entry.get("webhook_url")},
        notes=["Office 365 connector webhooks are retired; Herald posts Adaptive Cards to a "
               "Teams Workflows URL: check that this URL is one"],
    )


def msteamsv2_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    return ImportedReceiver(secrets={"url": entry.get("webhook_url")})


class TeamsTransport(Transport):
    kind = "msteams"
    label = "Microsoft Teams"
    settings_class = TeamsSettings
    parts = ("title", "body")
    part_limits = {"title": PartLimit("Teams (card title)", TITLE_LIMIT)}
    alertmanager = (
        AlertmanagerMapping(
            key="msteams_configs",
            mapper=msteams_from_alertmanager,
            send_resolved_default=True,
            reads=("webhook_url", "webhook_url_file"),
            templated=("title", "summary", "text"),
        ),
        AlertmanagerMapping(
            key="msteamsv2_configs",
            mapper=msteamsv2_from_alertmanager,
            send_resolved_default=True,
            reads=("webhook_url", "webhook_url_file"),
            templated=("title", "text"),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        payload = msteams_payload(rendered=self.render(message), message=message)
        response = self.post(self.settings.secret("url"), json=payload)
        return SendResult(http_status=response.status_code)
