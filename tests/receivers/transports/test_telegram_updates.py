"""What the bot reads of Telegram's updates: presses and commands, bounded; nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivers.telegram_bot.updates import ButtonPress, Command, update_read
from receivers.telegram_bot.webhook import webhook_secret_matches, webhook_secret_new
from receivers.transports.telegram_keyboard import (
    CALLBACK_DATA_LIMIT,
    callback_data,
    callback_token,
)

ALICE = {"id": 7001, "is_bot": False, "first_name": "Alice", "username": "alice_sre"}


def press(**query):
    return {"update_id": 1, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": ALICE, "data": "h1:abc",
        "message": {"message_id": 5, "chat": {"id": -100123, "type": "supergroup"}}, **query,
    }}


def command(text, chat_type="supergroup", **message):
    return {"update_id": 2, "message": {
        "message_id": 77, "from": ALICE, "text": text,
        "chat": {"id": -100123 if chat_type != "private" else 7001, "type": chat_type},
        **message,
    }}


def test_a_pressed_button_is_read_with_who_pressed_it():
    event = update_read(press())
    assert event == ButtonPress(query_id="4382bfdwdsb323b2d9",
                                user=event.user, data="h1:abc")
    assert (event.user.id, event.user.name) == (7001, "@alice_sre")


@pytest.mark.parametrize("text, name", [
    ("/oncall", "oncall"), ("/oncall@herald_bot", "oncall"), ("/OnCall now", "oncall"),
    ("/link", "link"), ("/start", "start"),
])
def test_commands_are_read_with_or_without_the_bots_name(text, name):
    event = update_read(command(text))
    assert isinstance(event, Command) and event.name == name
    assert (event.chat_id, event.message_id, event.chat_private) == (-100123, 77, False)


def test_a_command_in_a_forum_topic_keeps_its_topic():
    event = update_read(command("/oncall", message_thread_id=12, is_topic_message=True))
    assert event.message_thread_id == 12
    assert update_read(command("/oncall", message_thread_id=12)).message_thread_id is None


@pytest.mark.parametrize("update", [
    None, [], "text", {}, {"edited_message": {"text": "/oncall"}},
    command("hello"), command("/rm -rf"), command("/"),
    press(**{"from": {"id": 1, "is_bot": True}}),  # bots do not act
    press(**{"from": {"id": "7001"}}), press(**{"from": {"id": 10**30}}),
    press(id=""), press(id="x" * 65), press(data=None),
    command("/oncall", chat={"id": "nope"}),
])
def test_anything_else_is_ignored(update):
    assert update_read(update) is None


def test_callback_data_holds_a_48_character_token_within_64_bytes():
    data = callback_data("A" * 48)
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert callback_token(data) == "A" * 48
    with pytest.raises(ValueError, match="64"):
        callback_data("A" * 62)
    assert callback_token("other:abc") is None and callback_token("h1:") is None
    assert callback_token("h1:" + "é" * 40) is None  # over 64 bytes, whatever it claims


def test_the_webhook_secret_is_random_and_compared_whole():
    secret = webhook_secret_new()
    assert secret != webhook_secret_new() and 32 <= len(secret) <= 256
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    assert webhook_secret_matches(expected=secret, given=secret)
    assert not webhook_secret_matches(expected=secret, given=secret[:-1])
    assert not webhook_secret_matches(expected=secret, given=None)
    assert not webhook_secret_matches(expected="", given="")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "from", "data", "text", "chat", "message", "callback_query",
                         "message_id", "type", "username", "is_bot", "message_thread_id",
                         "is_topic_message", "first_name"]), inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(update=JSON)
def test_whatever_a_caller_sends_is_read_or_ignored_never_an_error(update):
    event = update_read(update)
    assert event is None or isinstance(event, ButtonPress | Command)
    if isinstance(event, ButtonPress):
        assert len(event.data) <= 128 and len(event.query_id) <= 64 and event.user.id > 0
