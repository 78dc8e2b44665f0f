"""Telegram Bot API sendMessage in HTML parse mode.

Telegram accepts only a few tags (b, i, u, s, a, code, pre, blockquote,
tg-spoiler and their aliases) and four named entities; anything else fails
the whole message. Rendered text is therefore sanitised (nh3) to that set,
then cut to 4,096 UTF-16 units without splitting a tag or an entity.

"chat not found" and "bot was blocked by the user" fail for good. When a
group became a supergroup, Telegram answers with `migrate_to_chat_id`: the
receiver's chat id is updated and the send retried.

The first message of an incident carries an inline keyboard (its actions,
receivers/transports/telegram_keyboard.py) and its chat and message id are
kept (SendResult.vendor_ref). Later messages of the incident edit that one
in place (`editMessageText`: the new text, the buttons that still make
sense, none once resolved) and reply to it, so the chat keeps the history
while the original always shows the state. An original Telegram no longer
has (deleted in the chat) is replaced by a new first message. A reply that
fails after its edit is retried with the notification; the edit is then
"not modified" and the reply is not sent again: the original says it all.

A person's page goes to the private chat the person has with the bot: their
Telegram user id (a `telegram` contact method, bound by the bot's /link).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import nh3
import requests
from django.utils.translation import gettext
from pydantic import Field, SecretStr, field_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage
from receivers.transports.alertmanager import AlertmanagerMapping, ImportedReceiver
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.http import http_post, response_json_object
from receivers.transports.settings import ChannelSettings, HttpUrl
from receivers.transports.telegram_keyboard import state_line, telegram_keyboard
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
    webhook_secret: SecretStr | None = Field(
        None,
        description="What Telegram sends in X-Telegram-Bot-Api-Secret-Token; "
        "set by `manage.py telegram_webhook_register`.",
    )

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


def telegram_html(text: str, limit: int = TEXT_LIMIT) -> str:
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
    return truncate_html(clean, limit, length=utf16_length)


def telegram_text(body: str, state: str = "") -> str:
    """The message's text: the rendered body, cut to leave room for the state line after it."""
    if not state:
        return telegram_html(body)
    return f"{telegram_html(body, TEXT_LIMIT - utf16_length(state) - 2)}\n\n{state}"


# Telegram's answers (400, in `description`) that an edit in place expects.
NOT_MODIFIED = "message is not modified"
EDIT_GONE = ("message to edit not found", "message can't be edited")
USER_ID_MAX_DIGITS = 20


def telegram_payload(
    *,
    rendered: RenderedMessage,
    settings: TelegramSettings,
    keyboard: Mapping[str, Any] | None = None,
    reply_to: int | None = None,
    state: str = "",
    text: str | None = None,
) -> dict[str, Any]:
    """The sendMessage body (pure): with its inline keyboard, or as a reply to the original.

    `text`, already Telegram's HTML, stands for the rendered body (a reply's short line).
    """
    payload: dict[str, Any] = {
        "chat_id": settings.chat_id,
        "text": text if text is not None else telegram_text(rendered["body"], state),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if settings.message_thread_id is not None:
        payload["message_thread_id"] = settings.message_thread_id
    if keyboard:
        payload["reply_markup"] = dict(keyboard)
    if reply_to is not None:
        # Sent anyway if the original was deleted meanwhile.
        payload["reply_parameters"] = {
            "message_id": reply_to, "allow_sending_without_reply": True,
        }
    return payload


def telegram_edit_payload(
    *, rendered: RenderedMessage, root: TelegramRef, keyboard: Mapping[str, Any] | None,
    state: str = "",
) -> dict[str, Any]:
    """The editMessageText body (pure). Without a keyboard the old buttons are removed."""
    payload: dict[str, Any] = {
        "chat_id": root.chat_id,
        "message_id": root.message_id,
        "text": telegram_text(rendered["body"], state),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if keyboard:
        payload["reply_markup"] = dict(keyboard)
    return payload


class TelegramRef(NamedTuple):
    """Where a message is: what SendResult.vendor_ref records (as strings)."""

    chat_id: int
    message_id: int
    message_thread_id: int | None = None

    def as_vendor_ref(self) -> dict[str, str]:
        return {
            "chat_id": str(self.chat_id),
            "message_id": str(self.message_id),
            "message_thread_id": "" if self.message_thread_id is None
            else str(self.message_thread_id),
        }

    @classmethod
    def from_vendor_ref(cls, ref: Mapping[str, Any] | None) -> TelegramRef | None:
        """The reference read back; None when it is missing or not a Telegram one."""
        if not ref:
            return None
        try:
            thread = ref.get("message_thread_id")
            return cls(int(ref["chat_id"]), int(ref["message_id"]),
                       int(thread) if thread not in (None, "") else None)
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> TelegramRef | None:
        """The reference of the Message a send answered with."""
        try:
            return cls(int(result["chat"]["id"]), int(result["message_id"]),
                       result.get("message_thread_id"))
        except (KeyError, TypeError, ValueError):
            return None


def _same_chat(root: TelegramRef, settings: TelegramSettings) -> bool:
    """Is the original in the chat this receiver sends to now? (An @name cannot be compared.)"""
    return not isinstance(settings.chat_id, int) or settings.chat_id == root.chat_id


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

    updates_in_place = True
    pages_people = True

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        """A person's Telegram user id (the private chat with the bot has the same id)."""
        text = address.strip()
        if not text.isdigit() or len(text) > USER_ID_MAX_DIGITS or int(text) == 0:
            raise ValueError(
                gettext("must be a Telegram user id (digits), as the bot's /link gives it"))
        return str(int(text))

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        return {**config, "chat_id": int(address), "message_thread_id": None}

    def send(self, message: AlertMessage) -> SendResult:
        rendered = self.render(message)
        try:
            keyboard = telegram_keyboard(message.actions)
        except ValueError as exc:  # a token over its 48 characters: Telegram would refuse it
            raise TransportError(f"Telegram's buttons: {exc}", permanent=True) from None
        state = state_line(message)
        root = TelegramRef.from_vendor_ref(message.thread_root_ref)
        if root is not None and _same_chat(root, self.settings):
            edited = self._edit(telegram_edit_payload(
                rendered=rendered, root=root, keyboard=keyboard, state=state
            ))
            if edited is not None:
                status, modified = edited
                if modified:  # the same text and buttons again: nothing new to reply
                    # A change of state says just that; new alerts or their end, in full.
                    short = state if message.group_update and state else None
                    self._call("sendMessage", telegram_payload(
                        rendered=rendered, settings=self.settings, reply_to=root.message_id,
                        text=short,
                    ))
                return SendResult(http_status=status, vendor_ref=root.as_vendor_ref())
        # The first message of the incident here, or its original is gone.
        response = self._call("sendMessage", telegram_payload(
            rendered=rendered, settings=self.settings, keyboard=keyboard, state=state
        ))
        ref = TelegramRef.from_result(response_json_object(response).get("result") or {})
        return SendResult(
            http_status=response.status_code, vendor_ref=ref.as_vendor_ref() if ref else None
        )

    def _url(self, method: str) -> str:
        # The token is part of the path: this URL must never reach an error or a log.
        base = self.settings.api_url.rstrip("/")
        return f"{base}/bot{self.settings.secret('bot_token')}/{method}"

    def _call(self, method: str, payload: Mapping[str, Any]) -> requests.Response:
        return self.post(self._url(method), json=dict(payload))

    def api_call(self, method: str, payload: Mapping[str, Any]) -> Any:
        """Any Bot API method as this receiver's bot (the webhook's answers); its `result`.

        Raises TransportError as a send does, with the token kept out of it.
        """
        return response_json_object(self._call(method, payload)).get("result")

    def _edit(self, payload: Mapping[str, Any]) -> tuple[int, bool] | None:
        """Edit the original: (HTTP status, whether it changed), or None when it is gone."""
        response = http_post(
            self._url("editMessageText"), allow_private=self.allow_private,
            timeout=self.settings.timeout_seconds, json=dict(payload),
        )
        if response.status_code == 400:
            description = str(response_json_object(response).get("description") or "").lower()
            if NOT_MODIFIED in description:
                # The same text and buttons: the message already says it, which
                # is a delivery (recorded as such, not as Telegram's 400).
                return 200, False
            if any(gone in description for gone in EDIT_GONE):
                return None
        self.raise_for_response(response)
        return response.status_code, True

    def raise_for_response(self, response: requests.Response) -> None:
        answer = response_json_object(response)
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
