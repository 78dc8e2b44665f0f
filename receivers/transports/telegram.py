"""Telegram Bot API sendMessage in HTML parse mode.

Telegram accepts only a few tags (b, i, u, s, a, code, pre, blockquote,
tg-spoiler and their aliases) and four named entities; anything else fails
the whole message. Rendered text is therefore sanitised (nh3) to that set,
then cut to 4,096 UTF-16 units without splitting a tag or an entity.

"chat not found" and "bot was blocked by the user" fail for good. When a
group became a supergroup, Telegram answers with `migrate_to_chat_id`: the
receiver's chat id is updated and the send retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nh3
import requests
from pydantic import Field, SecretStr, field_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.transports.alertmanager import AlertmanagerMapping, ImportedReceiver
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.truncation import truncate_html, utf16_length

API_URL = "https://api.telegram.org"
TEXT_LIMIT = 4_096
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
    "span", "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "code": {"class"},
    "tg-emoji": {"emoji-id"},
    "blockquote": {"expandable"},
}


class TelegramSettings(ChannelSettings):
    bot_token: SecretStr = Field(description="The bot's token from @BotFather.")
    chat_id: int | str = Field(description="Numeric chat id, or @channelusername.")
    message_thread_id: int | None = Field(None, description="Topic of a forum supergroup.")
    api_url: HttpUrl = Field(API_URL, description="Bot API base URL (a local Bot API server).")

    @field_validator("chat_id")
    @classmethod
    def _chat_id_shape(cls, value: int | str) -> int | str:
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit():
                return int(text)
            if not text.startswith("@") or len(text) < 2:
                raise ValueError("must be a numeric chat id or an @channelusername")
            return text
        return value


def _attribute_allowed(element: str, attribute: str, value: str) -> str | None:
    # Telegram gives class a meaning only for spoilers and code languages.
    if attribute == "class":
        if element == "span" and value == "tg-spoiler":
            return value
        if element == "code" and value.startswith("language-"):
            return value
        return None
    return value


def telegram_html(text: str) -> str:
    """Sanitise to Telegram's tags and cut to its limit (pure)."""
    clean = nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_allowed,
        url_schemes={"http", "https", "tg", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
    return truncate_html(clean, TEXT_LIMIT, length=utf16_length)


def telegram_payload(*, rendered: RenderedMessage, settings: TelegramSettings) -> dict[str, Any]:
    """The sendMessage body (pure)."""
    payload: dict[str, Any] = {
        "chat_id": settings.chat_id,
        "text": telegram_html(rendered["body"]),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if settings.message_thread_id is not None:
        payload["message_thread_id"] = settings.message_thread_id
    return payload


def _answer(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def telegram_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    api_url = entry.get("api_url") or globals.get("telegram_api_url")
    return ImportedReceiver(
        config={"chat_id": entry.get("chat_id"),
                "message_thread_id": entry.get("message_thread_id"),
                "api_url": api_url if api_url and api_url.rstrip("/") != API_URL else None},
        secrets={"bot_token": entry.get("bot_token")},
    )


class TelegramTransport(Transport):
    kind = "telegram"
    label = "Telegram"
    settings_class = TelegramSettings
    parts = ("body",)
    html_parts = frozenset({"body"})
    part_limits = {"body": PartLimit("Telegram (message)", TEXT_LIMIT)}
    alertmanager = (
        AlertmanagerMapping(
            key="telegram_configs",
            mapper=telegram_from_alertmanager,
            send_resolved_default=True,
            reads=("api_url", "bot_token", "bot_token_file", "chat_id", "message_thread_id"),
            templated=("message",),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        payload = telegram_payload(rendered=self.render(message), settings=self.settings)
        # The token is part of the path: this URL must never reach an error or a log.
        base = self.settings.api_url.rstrip("/")
        url = f"{base}/bot{self.settings.secret('bot_token')}/sendMessage"
        response = self.post(url, json=payload)
        return SendResult(http_status=response.status_code)

    def raise_for_response(self, response: requests.Response) -> None:
        answer = _answer(response)
        if 200 <= response.status_code < 300 and answer.get("ok", True):
            return
        parameters = answer.get("parameters") or {}
        description = self.error_text(str(answer.get("description") or response.reason or ""))
        status = response.status_code
        if "migrate_to_chat_id" in parameters:
            raise TransportError(
                "the group became a supergroup; the chat id was updated, retrying",
                http_status=status,
                retry_after=0,
                config_update={"chat_id": parameters["migrate_to_chat_id"]},
            )
        retry_after = parse_retry_after(parameters.get("retry_after"))
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        retryable = status == 429 or status >= 500
        raise TransportError(
            f"Telegram {status}: {description}",
            permanent=not retryable,
            http_status=status,
            retry_after=retry_after,
        )
