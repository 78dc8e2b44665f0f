"""What Herald reads of a Telegram Update (pure): a pressed button or a command.

Everything else (edited messages, joins, polls...) is ignored; the webhook
is registered for `message` and `callback_query` only, and what arrives is
read with bounds, whatever a caller sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The update types the webhook is registered for (setWebhook allowed_updates).
UPDATE_TYPES = ("message", "callback_query")
# Telegram's updates are a few KiB; anything far larger is not one of them.
BODY_LIMIT = 64 * 1024
COMMANDS = ("oncall", "link", "start", "help")
_NAME_LIMIT = 64
_ID_DIGITS = 20


@dataclass(frozen=True)
class TelegramUser:
    id: int
    name: str  # "@username", else the first name, as the chat shows them


@dataclass(frozen=True)
class ButtonPress:
    query_id: str
    user: TelegramUser
    data: str


@dataclass(frozen=True)
class Command:
    name: str  # "oncall", without the slash and the @bot suffix
    user: TelegramUser
    chat_id: int
    chat_private: bool
    message_id: int
    message_thread_id: int | None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or len(str(abs(value))) > _ID_DIGITS:
        return None
    return value


def _user(value: Any) -> TelegramUser | None:
    if not isinstance(value, Mapping) or value.get("is_bot") is True:
        return None
    user_id = _int(value.get("id"))
    if user_id is None or user_id <= 0:
        return None
    username = value.get("username")
    first = value.get("first_name")
    if isinstance(username, str) and username:
        name = f"@{username}"
    elif isinstance(first, str) and first:
        name = first
    else:
        name = str(user_id)
    return TelegramUser(id=user_id, name=name[:_NAME_LIMIT])


def _command_name(text: str) -> str | None:
    """'/oncall@herald_bot now' -> 'oncall'; None when the text is no command of ours."""
    if not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name = word.split("@", 1)[0].lower()
    return name if name in COMMANDS else None


def update_read(update: Any) -> ButtonPress | Command | None:
    """The button press or command an update carries; None for anything else."""
    if not isinstance(update, Mapping):
        return None
    query = update.get("callback_query")
    if isinstance(query, Mapping):
        user = _user(query.get("from"))
        query_id, data = query.get("id"), query.get("data")
        if user and isinstance(query_id, str) and 0 < len(query_id) <= 64 and isinstance(data, str):
            return ButtonPress(query_id=query_id, user=user, data=data[:128])
        return None
    message = update.get("message")
    if not isinstance(message, Mapping):
        return None
    text, chat = message.get("text"), message.get("chat")
    user = _user(message.get("from"))
    if not (isinstance(text, str) and isinstance(chat, Mapping) and user):
        return None
    name = _command_name(text[:200])
    chat_id, message_id = _int(chat.get("id")), _int(message.get("message_id"))
    if name is None or chat_id is None or message_id is None:
        return None
    thread = _int(message.get("message_thread_id")) if message.get("is_topic_message") else None
    return Command(name=name, user=user, chat_id=chat_id,
                   chat_private=chat.get("type") == "private",
                   message_id=message_id, message_thread_id=thread)
