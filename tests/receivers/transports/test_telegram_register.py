"""`manage.py telegram_webhook_register`: setWebhook with a new secret, then required."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from alerting.audit.models import AuditEntry
from receivers.models import Receiver
from tests.factories import ReceiverFactory
from tests.ingest import keep_schema
from tests.receivers.transports.telegram_standin import (
    TOKEN,
    BotApi,
    button_update,
    telegram_config,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(httpserver):
    return BotApi(httpserver)


@pytest.fixture
def bot(alpha, httpserver):
    return ReceiverFactory(name="tg", kind="telegram", config=telegram_config(httpserver),
                           secrets={"bot_token": TOKEN})


def deliver(receiver, secret):
    with keep_schema():
        return Client().post(
            f"/telegram/alpha/{receiver.id}/webhook/", data=json.dumps(button_update("h1:x")),
            content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret,
        ).status_code


def stored_secret(receiver):
    return Receiver.objects.get(pk=receiver.pk).secrets.get("webhook_secret")


def test_registering_sets_the_webhook_with_a_secret_the_endpoint_then_requires(
    alpha, api, bot, capsys
):
    call_command("telegram_webhook_register", tenant="alpha", receiver="tg")

    [registered] = api.of("setWebhook")
    assert registered["url"] == f"{settings.HERALD_BASE_URL}/telegram/alpha/{bot.id}/webhook/"
    assert registered["allowed_updates"] == ["message", "callback_query"]
    secret = registered["secret_token"]
    assert secret == stored_secret(bot) and len(secret) >= 32
    assert secret not in capsys.readouterr().out  # the secret is never printed
    assert deliver(bot, secret) == 200
    entry = AuditEntry.objects.get(action="telegram_webhook_register")
    assert entry.after == {"url": registered["url"]}  # and no secret

    call_command("telegram_webhook_register", tenant="alpha", receiver=str(bot.id))
    renewed = api.of("setWebhook")[-1]["secret_token"]
    assert renewed != secret
    assert (deliver(bot, secret), deliver(bot, renewed)) == (403, 200)


def test_delete_removes_the_webhook_and_its_secret(alpha, api, bot):
    call_command("telegram_webhook_register", tenant="alpha", receiver="tg")
    secret = stored_secret(bot)

    call_command("telegram_webhook_register", tenant="alpha", receiver="tg", delete=True)

    assert api.of("deleteWebhook") == [{"drop_pending_updates": False}]
    assert stored_secret(bot) is None
    assert deliver(bot, secret) == 403
    assert AuditEntry.objects.filter(action="telegram_webhook_delete").count() == 1


def test_telegrams_refusal_is_told_and_the_old_secret_kept(alpha, api, bot):
    call_command("telegram_webhook_register", tenant="alpha", receiver="tg")
    secret = stored_secret(bot)
    api.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")

    with pytest.raises(CommandError, match="HTTPS url must be provided") as failure:
        call_command("telegram_webhook_register", tenant="alpha", receiver="tg")

    assert TOKEN not in str(failure.value)
    assert stored_secret(bot) == secret


@pytest.mark.parametrize("tenant, receiver, message", [
    ("nobody", "tg", "no tenant"),
    ("alpha", "missing", "no Telegram receiver"),
    ("beta", "tg", "no Telegram receiver"),  # alpha's receiver, not beta's
])
def test_an_unknown_tenant_or_receiver_is_a_clear_error(alpha, beta, bot, tenant, receiver,
                                                         message):
    with pytest.raises(CommandError, match=message):
        call_command("telegram_webhook_register", tenant=tenant, receiver=receiver)
