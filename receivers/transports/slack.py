"""Slack incoming webhook: Block Kit blocks with a plain-text fallback.

Limits (Slack's Block Kit reference): header text 150 characters, section
text 3,000, at most 50 blocks, button text 75 and URL 3,000, context 10
elements. Slack also refuses messages whose blocks hold more than about 13,000
characters in all (msg_blocks_too_long), so the body is kept to 12,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from pydantic import Field

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.transports.alertmanager import (
    AlertmanagerMapping,
    ImportedReceiver,
    not_imported,
)
from receivers.transports.base import PartLimit, SendResult, Transport
from receivers.transports.settings import ChannelSettings, SecretUrl
from receivers.transports.slack_app import posts_with_web_api, slack_app_from_alertmanager
from receivers.truncation import chunk_text, truncate_text

HEADER_LIMIT = 150
SECTION_LIMIT = 3_000
BODY_LIMIT = 12_000
MAX_BLOCKS = 50
BUTTON_TEXT_LIMIT = 75
BUTTON_URL_LIMIT = 3_000
FALLBACK_LIMIT = 4_000


class SlackSettings(ChannelSettings):
    url: SecretUrl = Field(description="The incoming webhook URL (https://hooks.slack.com/…).")


def firing_count_text(firing: int, total: int, *, language: str) -> str:
    """"3/5 firing": how many of the message's alerts fire, in the language."""
    with translation.override(language):
        return _("%(firing)d/%(total)d firing") % {"firing": firing, "total": total}


def slack_payload(
    *, rendered: RenderedMessage, message: AlertMessage, language: str = "en"
) -> dict[str, Any]:
    """The JSON body of the webhook POST (pure)."""
    title = rendered["title"]
    body = truncate_text(rendered["body"], BODY_LIMIT)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": truncate_text(title, HEADER_LIMIT),
                "emoji": True,
            },
        }
    ]
    # Leave room for the context and actions blocks.
    chunks = [chunk for chunk in chunk_text(body, SECTION_LIMIT) if chunk.strip()]
    for chunk in chunks[: MAX_BLOCKS - 3]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    firing = sum(1 for alert in message.alerts if alert.get("status") == "firing")
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": truncate_text(
                        f"{message.tenant_name or message.tenant_slug} · "
                        f"{message.receiver_name} · "
                        f"{firing_count_text(firing, len(message.alerts), language=language)}",
                        SECTION_LIMIT,
                    ),
                }
            ],
        }
    )
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": truncate_text(link.label, BUTTON_TEXT_LIMIT)},
            "url": link.url,
            "action_id": f"herald-{link.kind}",
        }
        # An incoming webhook cannot take a click: Herald's actions are link buttons
        # to the signed action pages (the acknowledge link is among the links).
        for link in [*rendered.links,
                     *(a for a in rendered.action_links if a.kind != "acknowledge")]
        if len(link.url) <= BUTTON_URL_LIMIT
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {
        # Shown in notifications and by clients that cannot show blocks.
        "text": truncate_text(f"{title}\n{body}", FALLBACK_LIMIT),
        "blocks": blocks,
    }


def slack_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    if posts_with_web_api(entry, globals):
        return slack_app_from_alertmanager(entry, globals)
    url = entry.get("api_url") or globals.get("slack_api_url")
    if not url:
        return not_imported("no api_url (nor global slack_api_url)")
    notes = []
    if entry.get("channel"):
        notes.append("channel is not imported: a Slack incoming webhook posts to the channel "
                     "it was created for")
    if entry.get("http_config"):
        notes.append("http_config is not imported (Herald's outbound HTTP settings are "
                     "server-wide)")
    return ImportedReceiver(secrets={"url": url}, notes=notes)


class SlackTransport(Transport):
    kind = "slack"
    label = "Slack"
    settings_class = SlackSettings
    parts = ("title", "body")
    part_limits = {
        "title": PartLimit("Slack (header block)", HEADER_LIMIT),
        "body": PartLimit("Slack (message blocks)", BODY_LIMIT),
    }
    alertmanager = (
        AlertmanagerMapping(
            key="slack_configs",
            mapper=slack_from_alertmanager,
            send_resolved_default=False,
            other_kinds=("slack_app",),
            # channel and http_config are read by the app's import (chat.postMessage).
            reads=("api_url", "api_url_file", "channel", "http_config", "app_token",
                   "app_url"),
            templated=("title", "title_link", "text", "pretext", "fallback", "footer", "color",
                       "fields", "actions", "callback_id", "image_url", "thumb_url"),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        payload = slack_payload(
            rendered=self.render(message), message=message, language=self.settings.language
        )
        response = self.post(self.settings.secret("url"), json=payload)
        return SendResult(http_status=response.status_code)
