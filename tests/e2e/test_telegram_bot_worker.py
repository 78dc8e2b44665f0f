"""The Telegram bot with the real worker: fire, press Acknowledge in the chat, escalation stops.

A stand-in Bot API on loopback gets the worker's messages and the bot's
answers; the button press arrives at Herald's webhook on the live server
as Telegram sends it, with the secret the webhook was registered with.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import Escalation
from tests.conftest import wait_for
from tests.e2e.test_oncall_worker import fire, tick_and_wait
from tests.escalation.paging.conftest import policy_with
from tests.factories import (
    ContactMethodFactory,
    PersonFactory,
    ReceiverFactory,
    RouteFactory,
    TeamFactory,
)
from tests.receivers.transports.telegram_standin import (
    CHAT,
    SECRET,
    TOKEN,
    BotApi,
    button_update,
    telegram_config,
    user,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker caches tenants for a minute; committed_tenants made them anew (new keys)."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


def telegram_person(name, telegram_id):
    person = PersonFactory(user__username=name.lower(), display_name=name, membership="editor")
    method = ContactMethodFactory(person=person, kind="telegram", address=str(telegram_id))
    person.notification_rules.create(contact_method=method, delay_minutes=0)
    return person


def setup(alpha, httpserver):
    """A Telegram receiver for the team's alerts, carrying its pages; Alice first, Bob at 5 min."""
    with tenant_context(alpha):
        bot = ReceiverFactory(name="tg", kind="telegram", carries_pages=True,
                              config=telegram_config(httpserver),
                              secrets={"bot_token": TOKEN, "webhook_secret": SECRET})
        alice, bob = telegram_person("Alice", 7001), telegram_person("Bob", 7002)
        team = TeamFactory(name="SRE", members=[alice, bob])
        team.escalation_policy = policy_with([
            (0, [{"kind": "person", "person": alice}]),
            (5, [{"kind": "person", "person": bob}]),
        ])
        team.save()
        RouteFactory(receivers=[bot], team=team)
    return bot


def channel_message(api):
    """The worker's first message to the alert chat, with its buttons by action."""
    sent = [body for body in api.of("sendMessage") if body["chat_id"] == CHAT]
    if not sent or "reply_markup" not in sent[0]:
        return None
    rows = sent[0]["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def press(live_server, bot, data, who, query_id):
    return requests.post(
        f"{live_server.url}/telegram/alpha/{bot.id}/webhook/",
        json=button_update(data, who=who, query_id=query_id),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10,
    )


def answer_to(api, query_id):
    return next((body for body in api.of("answerCallbackQuery")
                 if body["callback_query_id"] == query_id), None)


def test_a_linked_person_acknowledges_in_the_chat_and_the_message_changes_in_place(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/sentinel").respond_with_data("ok")
    api = BotApi(httpserver)
    bot = setup(alpha, httpserver)

    group_key = fire(live_server, ingest_key, alpha)
    buttons = wait_for(lambda: channel_message(api))
    assert set(buttons) == {"✅ Acknowledge", "☑️ Resolve", "🔕 Silence 1 h"}
    # Alice's page reached her chat with the bot, with buttons of its own.
    wait_for(lambda: any(body["chat_id"] == 7001 for body in api.of("sendMessage")))

    # A stranger presses Resolve: refused, nothing changes.
    assert press(live_server, bot, buttons["☑️ Resolve"], user(6666, "mallory"),
                 "q-stranger").status_code == 200
    refusal = wait_for(lambda: answer_to(api, "q-stranger"))
    assert refusal["show_alert"] is True and "not linked" in refusal["text"]

    assert press(live_server, bot, buttons["✅ Acknowledge"], user(7001), "q-alice"
                 ).status_code == 200
    assert wait_for(lambda: answer_to(api, "q-alice"), timeout=5)["text"] == (
        "Acknowledged by Alice.")
    edit = wait_for(lambda: next((body for body in api.of("editMessageText")
                                  if body["chat_id"] == CHAT), None), timeout=5)
    assert edit["text"].endswith("✅ <b>Acknowledged by Alice</b>")
    labels = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert "↩️ Unacknowledge" in labels and "✅ Acknowledge" not in labels
    wait_for(lambda: any(body.get("reply_parameters", {}).get("message_id") == edit["message_id"]
                         for body in api.of("sendMessage")))

    # A second press says who did it already.
    press(live_server, bot, buttons["✅ Acknowledge"], user(7001), "q-again")
    assert wait_for(lambda: answer_to(api, "q-again"))["text"] == "Already acknowledged by Alice."

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        tick_and_wait(alpha, httpserver)  # level 2 would page Bob now
    assert not any(body["chat_id"] == 7002 for body in api.of("sendMessage"))
    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        assert (group.status, group.acknowledged_by) == ("firing", "Alice")
        assert Escalation.objects.get().state == "acknowledged"
