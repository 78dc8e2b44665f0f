"""Slack app: a bot posts with chat.postMessage, edits the message in place, threads follow-ups.

An incident's first message for the receiver is posted; its channel and `ts`
come back as the notification's vendor reference. Every later message of the
incident (acknowledged, resolved, new alerts, escalation) edits that message
(chat.update: its state, who acknowledged, the buttons that still make sense)
and posts a short follow-up in its thread (`reply_broadcast` per setting).
A message deleted in Slack (`message_not_found`) is posted anew instead.

Buttons carry the compact action token (escalation.actions) as their value;
a click comes back signed to receivers.chat.slack_views.

Slack answers HTTP 200 with `{"ok": false, "error": ...}` for most errors:
errors that will fail again (a wrong channel, a revoked token) are permanent,
`ratelimited` (HTTP 429) is retried after its Retry-After.

Limits (Slack's reference): text 40,000 characters (the fallback is kept to
4,000), at most 50 blocks, header 150, section 3,000, button text 75 and
value 2,000, 25 elements in an actions block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from pydantic import Field, SecretStr, field_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.transports.alertmanager import (
    ImportedReceiver,
    not_imported,
)
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.http import response_json_object
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.truncation import chunk_text, truncate_text

API_URL = "https://slack.com/api"
TEXT_LIMIT = 40_000
FALLBACK_LIMIT = 4_000
HEADER_LIMIT = 150
SECTION_LIMIT = 3_000
BODY_LIMIT = 12_000
MAX_BLOCKS = 50
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2_000
BUTTON_URL_LIMIT = 3_000
ACTIONS_PER_BLOCK = 25
ACTION_PREFIX = "herald-action-"

# Errors that the same request will meet again: retrying cannot help.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "invalid_auth", "account_inactive",
    "token_revoked", "token_expired", "not_authed", "is_archived", "missing_scope",
    "no_permission", "restricted_action", "ekm_access_denied", "invalid_blocks",
    "invalid_arguments", "msg_too_long", "no_text", "too_many_attachments", "cant_update_message",
    "edit_window_closed", "user_not_found", "cannot_dm_bot",
})  # fmt: skip
# Slack's own trouble: worth another try.
RETRYABLE_ERRORS = frozenset({
    "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
})  # fmt: skip

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_CHANNEL = re.compile(r"[CGDUW][A-Z0-9]{2,20}|#?[a-z0-9][a-z0-9._-]{0,79}")
_TOKEN = re.compile(r"xox[bp]-[A-Za-z0-9-]{10,250}")



def _state_label(state: str) -> str:
    """The group's state as the message's context line says it, in the active language."""
    labels = {
        "firing": "🔴 " + pgettext("group state", "Firing"),
        "acknowledged": "👀 " + pgettext("group state", "Acknowledged"),
        "resolved": "✅ " + pgettext("group state", "Resolved"),
    }
    return labels.get(state, state or "")


class SlackAppSettings(ChannelSettings):
    bot_token: SecretStr = Field(description="The app's bot token (xoxb-…): OAuth & Permissions.")
    # Optional so that an Alertmanager import (which has none) still sends;
    # without it every click is refused.
    signing_secret: SecretStr | None = Field(
        None, description="The app's signing secret (Basic Information): checks its buttons' "
        "clicks and commands; without it they are refused."
    )
    channel: str = Field(description="Channel id (C…) or name; a user id (U…) for a DM.")
    reply_broadcast: bool = Field(
        False, description="Also show the thread's follow-ups in the channel."
    )
    api_url: HttpUrl = Field(API_URL, description="Web API base URL (a stand-in for tests).")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must be a Slack bot token (xoxb-…)")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 8 <= len(value.get_secret_value()) <= 200:
            raise ValueError("must be the app's signing secret (8 to 200 characters)")
        return value

    @field_validator("channel")
    @classmethod
    def _channel_shape(cls, value: str) -> str:
        if not _CHANNEL.fullmatch(value):
            raise ValueError("must be a channel id (C…), a user id (U…) or a channel name")
        return value


def slack_app_blocks(
    *,
    rendered: RenderedMessage,
    message: AlertMessage,
) -> list[dict[str, Any]]:
    """The Block Kit blocks of the message: title, body, state, buttons (pure)."""
    blocks: list[dict[str, Any]] = [{
        "type": "header",
        "text": {"type": "plain_text", "text": truncate_text(rendered["title"], HEADER_LIMIT),
                 "emoji": True},
    }]
    body = truncate_text(rendered["body"], BODY_LIMIT)
    chunks = [chunk for chunk in chunk_text(body, SECTION_LIMIT) if chunk.strip()]
    # Room for the state and the two actions blocks.
    for chunk in chunks[: MAX_BLOCKS - 4]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": truncate_text(state_line(message), SECTION_LIMIT)},
    ]})
    buttons = action_buttons(message)
    if buttons:
        blocks.append({"type": "actions", "block_id": "herald-actions", "elements": buttons})
    links = [
        {"type": "button",
         "text": {"type": "plain_text", "text": truncate_text(link.label, BUTTON_TEXT_LIMIT)},
         "url": link.url, "action_id": f"herald-link-{link.kind}"}
        for link in rendered.links
        if len(link.url) <= BUTTON_URL_LIMIT and link.kind != "acknowledge"
    ][:ACTIONS_PER_BLOCK]
    if links:
        blocks.append({"type": "actions", "block_id": "herald-links", "elements": links})
    return blocks


def state_line(message: AlertMessage) -> str:
    """"*👀 Acknowledged by Alice* · Acme · oncall · 1/2 firing", in the active language."""
    state = _state_label(message.group_state)
    if message.group_state == "acknowledged" and message.acknowledged_by:
        state = _("%(state)s by %(who)s") % {
            "state": state, "who": slack_escape(message.acknowledged_by)}
    if message.group_state == "resolved" and message.resolved_by:
        state = _("%(state)s by %(who)s") % {
            "state": state, "who": slack_escape(message.resolved_by)}
    firing = sum(1 for alert in message.alerts if alert.get("status") == "firing")
    count = _("%(firing)d/%(total)d firing") % {"firing": firing, "total": len(message.alerts)}
    return (f"*{state}* · {slack_escape(message.tenant_name or message.tenant_slug)} · "
            f"{slack_escape(message.receiver_name)} · {count}")


def action_buttons(message: AlertMessage) -> list[dict[str, Any]]:
    """One button per action that still makes sense, its value the compact token."""
    buttons = []
    for action in message.actions:
        if not action.token or len(action.token) > BUTTON_VALUE_LIMIT:
            continue
        button: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": truncate_text(action.label, BUTTON_TEXT_LIMIT)},
            "action_id": f"{ACTION_PREFIX}{action.action}",
            "value": action.token,
        }
        if str(action.action) == "acknowledge":
            button["style"] = "primary"
        buttons.append(button)
    return buttons[:ACTIONS_PER_BLOCK]


def slack_escape(text: str) -> str:
    """Slack's three control characters, so a name cannot mention or link (pure)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback_text(rendered: RenderedMessage) -> str:
    """Shown in notifications and by clients that cannot show blocks."""
    return truncate_text(f"{rendered['title']}\n{rendered['body']}", FALLBACK_LIMIT)


def thread_text(*, rendered: RenderedMessage, message: AlertMessage) -> str:
    """The follow-up posted in the incident's thread: what changed (pure)."""
    if message.group_state == "resolved" or message.status == "resolved":
        by = f" by {slack_escape(message.resolved_by)}" if message.resolved_by else ""
        return truncate_text(f"✅ Resolved{by}: {rendered['title']}", FALLBACK_LIMIT)
    if message.group_update == "acknowledged":
        return f"👀 Acknowledged by {slack_escape(message.acknowledged_by) or 'someone'}"
    if message.group_update == "unacknowledged":
        return "🔴 No longer acknowledged: the incident is open again"
    # New alerts in the group, or the escalation's next step: the message again.
    return fallback_text(rendered)


def posts_with_web_api(entry: Mapping[str, Any], globals: Mapping[str, Any]) -> bool:
    """Does a slack_configs entry post as an app's bot (chat.postMessage), not to a webhook?"""
    if entry.get("app_token") or entry.get("app_token_file"):
        return True
    url = str(entry.get("app_url") or entry.get("api_url") or globals.get("slack_api_url") or "")
    return url.rstrip("/").endswith("/chat.postMessage")


def slack_app_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    """A slack_configs entry that posts to chat.postMessage with a bot token (pure)."""
    url = str(entry.get("app_url") or entry.get("api_url") or globals.get("slack_api_url")
              or f"{API_URL}/chat.postMessage")
    auth = (entry.get("http_config") or {}).get("authorization") or {}
    token = auth.get("credentials") or entry.get("app_token") or ""
    if not token:
        return not_imported("chat.postMessage needs a bot token "
                            "(http_config.authorization.credentials)")
    base = url.rstrip("/").removesuffix("/chat.postMessage")
    notes = ["signing_secret: set the Slack app's signing secret by hand for its buttons"]
    return ImportedReceiver(
        kind="slack_app",
        config={"channel": str(entry.get("channel") or "").strip(),
                "api_url": base if base != API_URL else None},
        secrets={"bot_token": token},
        notes=notes,
    )


class SlackApiError(TransportError):
    """Slack's `ok: false` answer, with its error code."""

    def __init__(self, message: str, *, code: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class SlackAppTransport(Transport):
    kind = "slack_app"
    label = "Slack app"
    settings_class = SlackAppSettings
    parts = ("title", "body")
    part_limits = {
        "title": PartLimit("Slack (header block)", HEADER_LIMIT),
        "body": PartLimit("Slack (message blocks)", BODY_LIMIT),
    }
    updates_in_place = True
    pages_people = True

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        address = address.strip().upper()
        if not _USER_ID.fullmatch(address):
            raise ValueError("a Slack member id looks like U0123ABCD (profile → Copy member ID)")
        return address

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        # A DM: chat.postMessage takes the user id as the channel.
        return {**config, "channel": cls.contact_address_clean(address)}

    def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.settings.api_url.rstrip('/')}/{method}"
        headers = {"Authorization": f"Bearer {self.settings.secret('bot_token')}"}
        return response_json_object(self.post(url, json=payload, headers=headers))

    def _post_message(self, payload: dict[str, Any]) -> dict[str, str]:
        answer = self._call("chat.postMessage", payload)
        return {"channel": str(answer.get("channel") or payload["channel"]),
                "ts": str(answer.get("ts") or "")}

    def send(self, message: AlertMessage) -> SendResult:
        rendered = self.render(message)
        content = {"text": fallback_text(rendered),
                   "blocks": slack_app_blocks(rendered=rendered, message=message)}
        root = message.thread_root_ref
        if not root or not root.get("ts"):
            ref = self._post_message({"channel": self.settings.channel, **content})
            return SendResult(http_status=200, vendor_ref=ref)
        try:
            self._call("chat.update", {"channel": root["channel"], "ts": root["ts"], **content})
        except SlackApiError as exc:
            if exc.code != "message_not_found":
                raise
            # Deleted in Slack: the incident's news still has to reach the channel.
            ref = self._post_message({"channel": root["channel"], **content})
            return SendResult(http_status=200, vendor_ref=ref)
        self._post_message({
            "channel": root["channel"],
            "thread_ts": root["ts"],
            "text": thread_text(rendered=rendered, message=message),
            "reply_broadcast": self.settings.reply_broadcast,
        })
        return SendResult(http_status=200, vendor_ref={"channel": root["channel"],
                                                       "ts": root["ts"]})

    def raise_for_response(self, response: requests.Response) -> None:
        answer = response_json_object(response)
        status = response.status_code
        if 200 <= status < 300 and answer.get("ok") is True:
            return
        code = str(answer.get("error") or "")[:80]
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or code == "ratelimited":
            raise SlackApiError(f"Slack rate limit ({code or 'HTTP 429'})", code="ratelimited",
                                http_status=429, retry_after=retry_after)
        if not code:
            raise SlackApiError(f"Slack HTTP {status}: {self.error_text(response.text)}",
                                code="", http_status=status,
                                permanent=400 <= status < 500)
        permanent = code in PERMANENT_ERRORS or (code not in RETRYABLE_ERRORS and status < 500)
        raise SlackApiError(f"Slack {code}", code=code, http_status=status, permanent=permanent,
                            retry_after=retry_after)
