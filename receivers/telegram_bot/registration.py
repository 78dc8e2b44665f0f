"""Registering a receiver's bot webhook with Telegram (setWebhook), or removing it."""

from __future__ import annotations

from django.db import connection

from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor, audit_action
from receivers.models import Receiver
from receivers.services import receiver_save
from receivers.telegram_bot.services import telegram_bot
from receivers.telegram_bot.updates import UPDATE_TYPES
from receivers.telegram_bot.webhook import SECRET_NAME, webhook_secret_new, webhook_url

# Telegram's default is 40; a bot's few presses a minute need far fewer.
MAX_CONNECTIONS = 10
COMMAND = AuditActor(name="telegram_webhook_register", source=AuditSource.COMMAND)


def telegram_webhook_register(*, receiver: Receiver, by: AuditActor = COMMAND) -> str:
    """Point the bot's webhook at this receiver's endpoint with a new secret; the URL.

    The secret is new at each registration (the old one stops working), and
    stored encrypted with the receiver's secrets once Telegram took it.
    Raises TransportError with Telegram's answer when it refuses.
    """
    url = webhook_url(tenant=connection.tenant, receiver_id=receiver.pk)
    secret = webhook_secret_new()
    telegram_bot(receiver=receiver).api_call("setWebhook", {
        "url": url,
        "secret_token": secret,
        "allowed_updates": list(UPDATE_TYPES),
        "max_connections": MAX_CONNECTIONS,
    })
    receiver_save(receiver=receiver, config=receiver.config, secrets={SECRET_NAME: secret})
    audit_action(by=by, action="telegram_webhook_register", obj=receiver, after={"url": url})
    return url


def telegram_webhook_delete(*, receiver: Receiver, by: AuditActor = COMMAND) -> None:
    """Remove the bot's webhook and forget its secret: the endpoint refuses everything then."""
    telegram_bot(receiver=receiver).api_call("deleteWebhook", {"drop_pending_updates": False})
    receiver_save(receiver=receiver, config=receiver.config, secrets={},
                  clear_secrets=(SECRET_NAME,))
    audit_action(by=by, action="telegram_webhook_delete", obj=receiver)
