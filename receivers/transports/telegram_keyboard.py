"""The inline keyboard under a Telegram alert message, and its state line (pure).

The state line ("✅ Acknowledged by Alice") follows the tenant's rendered
body, so an edited message says its state whatever the template shows.

A button's `callback_data` is what Telegram hands back when it is pressed:
at most 64 bytes, so it carries the compact signed action token
(escalation.actions, at most 48 ASCII characters) behind a short prefix
naming the format, and the webhook reads it back with that prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

CALLBACK_PREFIX = "h1:"
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
# The actions a chat button offers, in the order they are shown; the longer
# silences stay on the action pages.
KEYBOARD_ACTIONS = ("acknowledge", "unacknowledge", "resolve", "silence_1h")


def button_label(action: str) -> str:
    """A chat button's text, in the active language: "✅ Acknowledge"."""
    labels = {
        "acknowledge": "✅ " + pgettext("message action", "Acknowledge"),
        "unacknowledge": "↩️ " + pgettext("message action", "Unacknowledge"),
        "resolve": "☑️ " + pgettext("message action", "Resolve"),
        "silence_1h": "🔕 " + pgettext("message action", "Silence 1 h"),
    }
    return labels[action]


def callback_data(token: str) -> str:
    """The button's data for an action token; ValueError when Telegram would refuse it."""
    data = f"{CALLBACK_PREFIX}{token}"
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(
            f"callback_data is {len(data.encode())} bytes, over Telegram's {CALLBACK_DATA_LIMIT}"
        )
    return data


def callback_token(data: str) -> str | None:
    """The action token a pressed button carries, or None when it is not one of ours."""
    if not data.startswith(CALLBACK_PREFIX) or len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    return data[len(CALLBACK_PREFIX):] or None


def telegram_keyboard(actions: Iterable[Any]) -> dict[str, Any] | None:
    """InlineKeyboardMarkup for the message's actions (MessageAction), or None when none fit.

    Every action that still makes sense for the group's state is offered by
    the message (no acknowledge once acknowledged); this keeps the chat ones.
    """
    by_action = {str(action.action): action for action in actions if action.token}
    buttons = [
        {"text": button_label(name), "callback_data": callback_data(by_action[name].token)}
        for name in KEYBOARD_ACTIONS
        if name in by_action
    ]
    if not buttons:
        return None
    # Two buttons a row: readable on a phone.
    return {"inline_keyboard": [buttons[i:i + 2] for i in range(0, len(buttons), 2)]}


def state_line(message: Any) -> str:
    """The group's state as the message's last line, in Telegram's HTML; empty while firing."""
    if message.group_state == "acknowledged":
        if message.acknowledged_by:
            text = _("Acknowledged by %(who)s") % {"who": escape(message.acknowledged_by)}
        else:
            text = pgettext("group state", "Acknowledged")
        return f"✅ <b>{text}</b>"
    if message.group_state == "resolved" and message.resolved_by:
        return "☑️ <b>" + _("Resolved by %(who)s") % {"who": escape(message.resolved_by)} + "</b>"
    if message.group_update == "unacknowledged":
        return "↩️ <b>" + _("Unacknowledged: escalation runs again") + "</b>"
    return ""
