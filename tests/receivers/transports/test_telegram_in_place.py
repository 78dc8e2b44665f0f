"""The Telegram receiver's buttons, and an incident's later messages edited in place.

Sends go to a stand-in Bot API on loopback that checks Telegram's limits
(text 4,096 UTF-16 units, callback_data 64 bytes) and answers as Telegram does.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from escalation.actions import MAX_TOKEN_LENGTH
from receivers.messages import MessageAction
from receivers.transports import TransportError
from receivers.transports.telegram import TelegramTransport
from tests.receivers.helpers import MESSAGES, alert_message, transport
from tests.receivers.transports.telegram_standin import CHAT, TOKEN, BotApi, telegram_config

# The longest token the action model makes (48 characters), for every button.
TOKEN_48 = "a" * (MAX_TOKEN_LENGTH - 3) + ".z9"
FIRING_ACTIONS = tuple(
    MessageAction(action=name, label=name, url=f"https://herald.example/act/{name}/",
                  token=f"{name[:2]}{TOKEN_48}"[:MAX_TOKEN_LENGTH])
    for name in ("acknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h")
)
ACKED_ACTIONS = tuple(
    replace(action, action="unacknowledge") if action.action == "acknowledge" else action
    for action in FIRING_ACTIONS
)


@pytest.fixture
def api(httpserver):
    return BotApi(httpserver)


def bot(httpserver, **config) -> TelegramTransport:
    return transport("telegram", config=telegram_config(httpserver, **config),
                     secrets={"bot_token": TOKEN})


def first(**fields):
    return alert_message(**{"actions": FIRING_ACTIONS, "alert_group_id": 3, "incident": 1,
                            **fields})


def buttons(body):
    return [button for row in body["reply_markup"]["inline_keyboard"] for button in row]


def test_the_first_message_has_buttons_and_its_reference_is_kept(httpserver, api):
    result = bot(httpserver, message_thread_id=9).send(first())

    [sent] = api.of("sendMessage")
    assert [b["text"] for b in buttons(sent)] == [
        "✅ Acknowledge", "☑️ Resolve", "🔕 Silence 1 h"]
    for button in buttons(sent):
        assert button["callback_data"].startswith("h1:")
        assert len(button["callback_data"].encode()) <= 64
    assert sent["message_thread_id"] == 9
    assert result.vendor_ref == {"chat_id": str(CHAT), "message_id": "101",
                                 "message_thread_id": "9"}


@pytest.mark.parametrize("kind", MESSAGES)
def test_every_message_with_its_buttons_is_within_telegrams_limits(httpserver, api, kind):
    message = replace(MESSAGES[kind]("firing"), actions=FIRING_ACTIONS,
                      group_state="acknowledged", acknowledged_by="Ålice <3" * 20)
    bot(httpserver).send(message)
    [sent] = api.of("sendMessage")  # the stand-in answers 400 past a limit
    assert sent["text"].endswith("</b>") and "Ålice &lt;3" in sent["text"]


def test_an_acknowledgement_edits_the_original_and_replies_to_it(httpserver, api):
    root = bot(httpserver).send(first()).vendor_ref
    update = first(actions=ACKED_ACTIONS, group_state="acknowledged", acknowledged_by="Alice",
                   group_update="acknowledged", thread_root_ref=root)

    result = bot(httpserver).send(update)

    [edit] = api.of("editMessageText")
    assert (edit["chat_id"], edit["message_id"]) == (CHAT, 101)
    assert edit["text"].endswith("✅ <b>Acknowledged by Alice</b>")
    assert [b["text"] for b in buttons(edit)] == [
        "↩️ Unacknowledge", "☑️ Resolve", "🔕 Silence 1 h"]
    _, reply = api.of("sendMessage")
    assert reply["reply_parameters"] == {"message_id": 101, "allow_sending_without_reply": True}
    assert reply["text"] == "✅ <b>Acknowledged by Alice</b>" and "reply_markup" not in reply
    assert result.vendor_ref == root


def test_a_resolved_incident_loses_its_buttons_and_new_alerts_are_replied_in_full(
    httpserver, api
):
    root = bot(httpserver).send(first()).vendor_ref
    bot(httpserver).send(first(status="resolved", actions=(), group_state="resolved",
                               resolved_by="Bob", thread_root_ref=root))

    [edit] = api.of("editMessageText")
    assert "reply_markup" not in edit  # Telegram removes the keyboard
    assert edit["text"].endswith("☑️ <b>Resolved by Bob</b>")
    assert "[RESOLVED]" in api.of("sendMessage")[-1]["text"]


def test_not_modified_is_success_and_a_deleted_original_is_sent_anew(httpserver, api):
    root = bot(httpserver).send(first()).vendor_ref
    api.fail_next("editMessageText", 400, "Bad Request: message is not modified: specified "
                  "new message content and reply markup are exactly the same")
    assert bot(httpserver).send(first(thread_root_ref=root)).vendor_ref == root
    assert len(api.of("sendMessage")) == 1  # nothing new: no reply either

    api.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    again = bot(httpserver).send(first(thread_root_ref=root))
    assert again.vendor_ref["message_id"] == "102"  # a new first message, with buttons
    assert "reply_markup" in api.of("sendMessage")[-1]


def test_an_original_in_another_chat_is_not_edited(httpserver, api):
    elsewhere = {"chat_id": "-100999", "message_id": "5", "message_thread_id": ""}
    bot(httpserver).send(first(thread_root_ref=elsewhere))
    assert api.of("editMessageText") == []
    assert "reply_markup" in api.of("sendMessage")[0]


@pytest.mark.parametrize("status, description, permanent", [
    (401, "Unauthorized", True),
    (403, "Forbidden: bot was blocked by the user", True),
    (403, "Forbidden: bot was kicked from the supergroup chat", True),
    (400, "Bad Request: chat not found", True),
    (502, "Bad Gateway", False),
])
def test_telegrams_errors_on_an_edit_are_permanent_or_retried(
    httpserver, api, status, description, permanent
):
    root = {"chat_id": str(CHAT), "message_id": "101", "message_thread_id": ""}
    api.fail_next("editMessageText", status, description)
    with pytest.raises(TransportError) as failure:
        bot(httpserver).send(first(thread_root_ref=root))
    assert failure.value.permanent is permanent
    assert TOKEN not in failure.value.message and description in failure.value.message


def test_flood_control_on_an_edit_waits_as_long_as_telegram_asks(httpserver, api):
    root = {"chat_id": str(CHAT), "message_id": "101", "message_thread_id": ""}
    api.fail_next("editMessageText", 429, "Too Many Requests: retry after 17", retry_after=17)
    with pytest.raises(TransportError) as failure:
        bot(httpserver).send(first(thread_root_ref=root))
    assert (failure.value.permanent, failure.value.retry_after) == (False, 17)


def test_a_persons_page_goes_to_their_chat_with_the_bot():
    assert TelegramTransport.contact_address_clean(" 7001 ") == "7001"
    for bad in ("@alice", "-100123", "0", "12ab", "9" * 21):
        with pytest.raises(ValueError):
            TelegramTransport.contact_address_clean(bad)
    config = TelegramTransport.addressed_to({"chat_id": CHAT, "message_thread_id": 4}, "7001")
    assert config == {"chat_id": 7001, "message_thread_id": None}


def test_a_token_too_long_for_a_button_fails_for_good_before_anything_is_sent(httpserver, api):
    too_long = (replace(FIRING_ACTIONS[0], token="x" * 62),)
    with pytest.raises(TransportError) as failure:
        bot(httpserver).send(first(actions=too_long))
    assert failure.value.permanent and "64" in failure.value.message
    assert api.calls == []
