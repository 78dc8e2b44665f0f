"""What the bot does with an update (run by a task, never in the webhook's request).

A pressed button applies its action (escalation.actions) as the person the
Telegram user is linked to, then answers the press with the outcome; the
message itself is edited by the normal update path (the transport's
updates in place). A user linked to nobody, or a button that is not a good
token, is refused and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from alerting.encryption import SecretUnreadable
from escalation.actions import (
    ActionTokenError,
    action_compact_token_read,
    actor_for_person,
    incident_action_apply,
)
from receivers.models import Receiver
from receivers.telegram_bot.linking import telegram_link_url, telegram_person
from receivers.telegram_bot.selectors import on_call_text, telegram_receiver
from receivers.telegram_bot.updates import ButtonPress, Command, update_read
from receivers.transports import TransportError, transport_class
from receivers.transports.telegram import TelegramTransport
from receivers.transports.telegram_keyboard import callback_token

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
ANSWER_LIMIT = 200  # answerCallbackQuery's text
HELP = (
    "Herald's bot. Buttons under an alert acknowledge, resolve or silence it as you.\n"
    "/link: link your Telegram account to your Herald profile (in this private chat)\n"
    "/oncall: who is on call now"
)


def telegram_bot(*, receiver: Receiver) -> TelegramTransport:
    """The receiver's bot, to call the Bot API as (raises TransportError, SecretUnreadable)."""
    bot = transport_class(receiver.kind)(
        config=receiver.config, secrets=receiver.secrets,
        allow_private=connection.tenant.allow_private_targets,
    )
    if not isinstance(bot, TelegramTransport):
        raise TransportError(f"the receiver {receiver.name!r} is not a Telegram bot",
                             permanent=True)
    return bot


def _press_answer(bot: TelegramTransport, press: ButtonPress, text: str, *, alert: bool) -> None:
    bot.api_call("answerCallbackQuery", {
        "callback_query_id": press.query_id, "text": text[:ANSWER_LIMIT], "show_alert": alert,
    })


def _reply(bot: TelegramTransport, command: Command, text: str) -> None:
    payload: dict[str, Any] = {
        "chat_id": command.chat_id,
        "text": text[:4096],
        "link_preview_options": {"is_disabled": True},
        "reply_parameters": {"message_id": command.message_id,
                             "allow_sending_without_reply": True},
    }
    if command.message_thread_id is not None:
        payload["message_thread_id"] = command.message_thread_id
    bot.api_call("sendMessage", payload)


def telegram_button_press(*, bot: TelegramTransport, press: ButtonPress) -> str:
    """Apply the pressed button's action as its user's person; the answer Telegram shows."""
    tenant = connection.tenant
    person = telegram_person(telegram_user_id=press.user.id)
    if person is None:
        _press_answer(bot, press, (
            f"{press.user.name}, your Telegram account is not linked to anyone in Herald "
            f"({tenant.name}): send /link to the bot in a private chat. Nothing was changed."
        ), alert=True)
        return "unlinked"
    token = callback_token(press.data)
    try:
        if token is None:
            raise ActionTokenError("This button is not Herald's.")
        request = action_compact_token_read(tenant=tenant, token=token)
    except ActionTokenError as exc:
        _press_answer(bot, press, f"{exc} Nothing was changed.", alert=True)
        return "bad token"
    outcome = incident_action_apply(
        tenant=tenant, request=request, actor=actor_for_person(person_id=person.id),
        channel=CHANNEL,
    )
    _press_answer(bot, press, outcome.message, alert=not outcome.done)
    return "done" if outcome.done else "not done"


def telegram_command(*, bot: TelegramTransport, receiver: Receiver, command: Command) -> str:
    tenant = connection.tenant
    person = telegram_person(telegram_user_id=command.user.id)
    if command.name == "oncall":
        # Names of people: for the receiver's own chat and for linked people only.
        if str(command.chat_id) != str(receiver.config.get("chat_id")) and person is None:
            _reply(bot, command, "I answer /oncall in my alert chat, or to linked people "
                                 "(send /link in a private chat).")
            return "oncall refused"
        _reply(bot, command, on_call_text(now=timezone.now(), tenant_name=tenant.name))
        return "oncall"
    if command.name == "link":
        if not command.chat_private:
            _reply(bot, command, "Send /link to me in a private chat: the link is yours alone.")
            return "link refused"
        if person is not None:
            _reply(bot, command, (
                f"This Telegram account is linked to {person.display_name} in Herald "
                f"({tenant.name}). To link it to someone else, that contact method is "
                "removed from their profile first."
            ))
            return "linked"
        url = telegram_link_url(tenant=tenant, telegram_user_id=command.user.id,
                                telegram_name=command.user.name)
        _reply(bot, command, (
            f"Open this link within 15 minutes, signed in to Herald ({tenant.name}), "
            f"to link this Telegram account to your profile:\n{url}"
        ))
        return "link"
    _reply(bot, command, HELP)
    return "help"


def telegram_update_handle(*, receiver_id: int, update: Mapping[str, Any]) -> str:
    """Handle one update the receiver's webhook accepted; what was done, for the task's log."""
    receiver = telegram_receiver(receiver_id=receiver_id)
    event = update_read(update)
    if receiver is None or event is None:
        return "ignored"
    try:
        bot = telegram_bot(receiver=receiver)
        if isinstance(event, ButtonPress):
            return telegram_button_press(bot=bot, press=event)
        return telegram_command(bot=bot, receiver=receiver, command=event)
    except TransportError as exc:
        # The answer could not be given (Telegram down, the query expired): the
        # action, if any, is done and audited; the message is edited by delivery.
        logger.warning("telegram receiver %r: answering failed: %s", receiver.name, exc.message)
        return "answer failed"
    except SecretUnreadable:
        logger.warning("telegram receiver %r: its secrets cannot be decrypted", receiver.name)
        return "secrets unreadable"
