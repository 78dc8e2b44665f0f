"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card.

The Workflows "post to a channel when a webhook request is received" flow
takes a message with an Adaptive Card attachment; the retired Office 365
connector MessageCard format is not used. Teams refuses messages over about
28 KB, so the card's body text gets whatever room the rest leaves.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from receivers.messages import AlertMessage
from receivers.severity import teams_style
from receivers.templating import RenderedMessage
from receivers.transports.base import SendResult, Transport
from receivers.transports.settings import ChannelSettings, SecretUrl
from receivers.truncation import json_length, truncate_text

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
MESSAGE_LIMIT_BYTES = 27_000  # Teams' limit is ~28 KB; keep a margin for its envelope.
TITLE_LIMIT = 500
MAX_FACTS = 20
FACT_LIMIT = 500


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
    actions = [
        {"type": "Action.OpenUrl", "title": link.label, "url": link.url} for link in rendered.links
    ]
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


class TeamsTransport(Transport):
    kind = "msteams"
    settings_class = TeamsSettings

    def send(self, message: AlertMessage) -> SendResult:
        payload = msteams_payload(rendered=self.render(message), message=message)
        response = self.post(self.settings.secret("url"), json=payload)
        return SendResult(http_status=response.status_code)
