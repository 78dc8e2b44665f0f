"""Discord webhook: content plus one embed, within Discord's limits.

Limits (Discord's message and embed reference): content 2,000 characters;
embed title 256, description 4,096, at most 25 fields of name 256 and value
1,024, footer 2,048, and 6,000 characters over all embeds of a message.
Mentions are disabled, so an alert's text cannot ping @everyone. A firing
message's links include Herald's signed action pages (resolve, silence).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import Field

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.severity import severity_color
from receivers.transports.alertmanager import AlertmanagerMapping, ImportedReceiver
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.settings import ChannelSettings, HttpUrl, SecretUrl
from receivers.truncation import truncate_text

CONTENT_LIMIT = 2_000
DESCRIPTION_LIMIT = 4_096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1_024
FOOTER_LIMIT = 2_048
MAX_FIELDS = 25
EMBEDS_TOTAL_LIMIT = 6_000
USERNAME_LIMIT = 80


class DiscordSettings(ChannelSettings):
    url: SecretUrl = Field(
        description="The channel webhook URL (https://discord.com/api/webhooks/…)."
    )
    username: str = Field("", max_length=USERNAME_LIMIT, description="Name shown as the sender.")
    avatar_url: HttpUrl | None = Field(None, description="Avatar shown as the sender.")


def _embed_chars(embed: dict[str, Any]) -> int:
    """What Discord counts against the 6,000-character budget."""
    fields = embed.get("fields", [])
    return (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(embed.get("footer", {}).get("text", ""))
    )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def discord_payload(
    *,
    rendered: RenderedMessage,
    message: AlertMessage,
    settings: DiscordSettings,
    now: datetime,
) -> dict[str, Any]:
    """The webhook body (pure, given the time)."""
    resolved = message.status == "resolved"
    fields = []
    # Herald's action pages besides acknowledge (the acknowledge link is among the links).
    actions = [link for link in rendered.action_links if link.kind != "acknowledge"]
    for link in [*rendered.links, *actions]:
        value = f"[{link.label}]({link.url})"
        if len(value) <= FIELD_VALUE_LIMIT:
            fields.append(
                {
                    "name": truncate_text(link.label, FIELD_NAME_LIMIT),
                    "value": value,
                    "inline": True,
                }
            )
    embed: dict[str, Any] = {
        "color": int(severity_color(rendered.severity, resolved=resolved).lstrip("#"), 16),
        "fields": fields[:MAX_FIELDS],
        "footer": {
            "text": truncate_text(
                f"Herald · {message.tenant_name or message.tenant_slug} · {message.receiver_name}",
                FOOTER_LIMIT,
            )
        },
        "timestamp": now.astimezone(UTC).isoformat(),
    }
    room = EMBEDS_TOTAL_LIMIT - _embed_chars(embed)
    embed["description"] = truncate_text(rendered["body"], min(DESCRIPTION_LIMIT, room))
    payload: dict[str, Any] = {
        # The title goes in the content (push notifications show content, not
        # embeds); the embed carries the details.
        "content": truncate_text(rendered["title"], CONTENT_LIMIT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }
    if settings.username:
        payload["username"] = settings.username
    if settings.avatar_url:
        payload["avatar_url"] = settings.avatar_url
    return payload


def discord_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    return ImportedReceiver(
        config={"username": entry.get("username"), "avatar_url": entry.get("avatar_url")},
        secrets={"url": entry.get("webhook_url")},
    )


class DiscordTransport(Transport):
    kind = "discord"
    label = "Discord"
    settings_class = DiscordSettings
    parts = ("title", "body")
    part_limits = {
        "title": PartLimit("Discord (content)", CONTENT_LIMIT),
        "body": PartLimit("Discord (embed description)", DESCRIPTION_LIMIT),
    }
    alertmanager = (
        AlertmanagerMapping(
            key="discord_configs",
            mapper=discord_from_alertmanager,
            send_resolved_default=True,
            reads=("webhook_url", "webhook_url_file", "username", "avatar_url"),
            templated=("title", "message", "content"),
        ),
    )

    def raise_for_response(self, response: requests.Response) -> None:
        try:
            super().raise_for_response(response)
        except TransportError as exc:
            # Discord also says how long to wait in its 429 body, in seconds.
            if exc.retry_after is None and response.status_code == 429:
                exc.retry_after = parse_retry_after(_json(response).get("retry_after"))
            raise

    def send(self, message: AlertMessage) -> SendResult:
        payload = discord_payload(
            rendered=self.render(message),
            message=message,
            settings=self.settings,
            now=datetime.now(UTC),
        )
        response = self.post(self.settings.secret("url"), json=payload)
        return SendResult(http_status=response.status_code)
