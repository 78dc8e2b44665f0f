"""What Slack posts, read and bounded (pure): a button's click and a slash command.

Both come form-encoded; a click carries its JSON in the `payload` field. Only
what Herald uses is read, each value checked for its shape, so a hostile
body is a clear refusal rather than an error deeper down.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from receivers.transports.slack_app import ACTION_PREFIX

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_VALUE_MAX = 2_000
_URL_MAX = 1_000


class PayloadError(ValueError):
    """The body is not a request Herald understands; the message names the field."""


@dataclass(frozen=True)
class Click:
    """A press of one of Herald's action buttons."""

    user_id: str
    user_name: str
    token: str
    response_url: str
    channel_id: str
    message_ts: str


@dataclass(frozen=True)
class Command:
    """A slash command: `/herald oncall`."""

    command: str
    text: str
    user_id: str
    user_name: str
    response_url: str


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=40)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("the body is not form-encoded") from None
    return {name: values[0] for name, values in fields.items() if values}


def _user_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _USER_ID.fullmatch(value):
        raise PayloadError(f"{field}: not a Slack user id")
    return value


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def click_read(body: bytes) -> Click | None:
    """The click the body carries; None for an interaction that is not a Herald action."""
    raw = _form(body).get("payload")
    if raw is None:
        raise PayloadError("payload: missing")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        raise PayloadError("payload: not JSON") from None
    if not isinstance(payload, dict):
        raise PayloadError("payload: not an object")
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise PayloadError("payload.actions: missing")
    action = actions[0]
    if not str(action.get("action_id", "")).startswith(ACTION_PREFIX):
        # A link button (Source, Silence in Alertmanager): Slack reports its click too.
        return None
    value = action.get("value")
    if not isinstance(value, str) or not value or len(value) > _VALUE_MAX:
        raise PayloadError("payload.actions[0].value: not an action token")
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    return Click(
        user_id=_user_id(user.get("id"), "payload.user.id"),
        user_name=_text(user.get("username") or user.get("name"), 80),
        token=value,
        response_url=_text(payload.get("response_url"), _URL_MAX),
        channel_id=_text(channel.get("id"), 40),
        message_ts=_text(message.get("ts"), 40),
    )


def command_read(body: bytes) -> Command:
    form = _form(body)
    return Command(
        command=_text(form.get("command"), 40),
        text=" ".join(_text(form.get("text"), 200).split()).lower(),
        user_id=_user_id(form.get("user_id"), "user_id"),
        user_name=_text(form.get("user_name"), 80),
        response_url=_text(form.get("response_url"), _URL_MAX),
    )


def ephemeral(text: str) -> dict[str, object]:
    """A reply only the person who clicked or typed sees."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text[:3_000]}
