"""Telegram: sendMessage in HTML mode, sanitised and cut safely, to a real local server."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug import Response

from receivers.delivery import notification_deliver
from receivers.message_rendering import message_render
from receivers.models import AttemptOutcome, Notification, Receiver
from receivers.transports import TransportError
from receivers.transports.telegram import (
    TEXT_LIMIT,
    TelegramSettings,
    telegram_html,
    telegram_payload,
)
from receivers.truncation import utf16_length
from tests.factories import NotificationFactory
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
STATUSES = ("firing", "resolved")
ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
           "a", "tg-emoji", "code", "pre", "blockquote"}  # fmt: skip


def telegram(httpserver, chat_id=-1001234, **config):
    return transport(
        "telegram",
        config={"chat_id": chat_id, "api_url": httpserver.url_for("/"), **config},
        secrets={"bot_token": TOKEN},
    )


def payload_for(message):
    settings = TelegramSettings.parse(config={"chat_id": 42}, secrets={"bot_token": TOKEN})
    return telegram_payload(
        rendered=message_render(channel="telegram", message=message), settings=settings
    )


def tags_in(html):
    return {name.lower() for name in re.findall(r"</?\s*([a-zA-Z][\w-]*)", html)}


def test_the_message_is_html_with_escaped_alert_text():
    payload = payload_for(alert_message())
    assert payload["parse_mode"] == "HTML"
    assert payload["chat_id"] == 42
    assert payload["link_preview_options"] == {"is_disabled": True}
    assert payload["text"].startswith("🔴 <b>[FIRING:2] HighLatency</b>")
    assert tags_in(payload["text"]) <= ALLOWED


def test_only_telegrams_tags_survive_and_text_stays_escaped():
    html = telegram_html(
        '<div><p>hi</p><b onclick="x">bold</b> <span class="evil">s</span> '
        '<span class="tg-spoiler">secret</span> <a href="javascript:alert(1)">bad</a> '
        '<a href="https://ok.example/?a=1&amp;b=2">ok</a> 1 &lt; 2 <script>x()</script></div>'
    )
    assert tags_in(html) <= ALLOWED
    assert "<b>bold</b>" in html
    assert '<span class="tg-spoiler">secret</span>' in html
    assert 'class="evil"' not in html and "javascript:" not in html
    assert '<a href="https://ok.example/?a=1&amp;b=2">ok</a>' in html
    assert "1 &lt; 2" in html and "x()" not in html


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_message_fits_4096_utf16_units_with_tags_balanced(kind, status):
    text = payload_for(MESSAGES[kind](status))["text"]

    assert utf16_length(text) <= TEXT_LIMIT
    assert tags_in(text) <= ALLOWED
    for tag in ("b", "i", "code", "a"):
        assert len(re.findall(rf"<{tag}[ >]", text)) == text.count(f"</{tag}>")
    # No entity cut in half: every & starts a complete one.
    assert re.findall(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)", text) == []
    assert_whole_text(text)


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_calls_send_message_with_the_token_in_the_path(httpserver, kind, status):
    httpserver.expect_oneshot_request(f"/bot{TOKEN}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": 7}}
    )

    result = telegram(httpserver, message_thread_id=9).send(MESSAGES[kind](status))

    assert result.http_status == 200
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert body["chat_id"] == -1001234 and body["message_thread_id"] == 9
    assert body["parse_mode"] == "HTML"
    assert ("BEHOBEN" in body["text"]) is False  # English unless configured
    word = "RESOLVED" if status == "resolved" else "FIRING"
    assert word in body["text"]


@pytest.mark.parametrize(
    ("status", "description"),
    [(400, "Bad Request: chat not found"), (403, "Forbidden: bot was blocked by the user")],
)
def test_a_missing_chat_or_a_blocked_bot_fails_for_good(httpserver, status, description):
    httpserver.expect_request(f"/bot{TOKEN}/sendMessage").respond_with_json(
        {"ok": False, "error_code": status, "description": description}, status=status
    )
    with pytest.raises(TransportError) as failure:
        telegram(httpserver).send(alert_message())
    assert failure.value.permanent is True
    assert description in failure.value.message
    assert TOKEN not in failure.value.message


def test_flood_control_is_retried_after_the_time_telegram_asks(httpserver):
    httpserver.expect_request(f"/bot{TOKEN}/sendMessage").respond_with_json(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 17",
            "parameters": {"retry_after": 17},
        },
        status=429,
    )
    with pytest.raises(TransportError) as failure:
        telegram(httpserver).send(alert_message())
    assert failure.value.permanent is False and failure.value.retry_after == 17.0


def test_a_migrated_group_is_followed_to_its_supergroup(alpha, httpserver):
    """The receiver's chat id is updated through a service and the next attempt uses it."""
    old, new = -4001, -1009876543210
    migrated = {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": new},
    }
    httpserver.expect_ordered_request(f"/bot{TOKEN}/sendMessage").respond_with_response(
        Response(json.dumps(migrated), status=400, content_type="application/json")
    )
    httpserver.expect_ordered_request(f"/bot{TOKEN}/sendMessage").respond_with_json(
        {"ok": True, "result": {}}
    )
    receiver = Receiver.objects.create(
        name="tg",
        kind="telegram",
        config={"chat_id": old, "api_url": httpserver.url_for("/")},
        secrets={"bot_token": TOKEN},
    )
    notification = NotificationFactory(receiver=receiver)

    first = notification_deliver(notification_id=notification.id)
    receiver.refresh_from_db()
    assert first.outcome == AttemptOutcome.RETRY
    assert receiver.config["chat_id"] == new

    second = notification_deliver(notification_id=notification.id)
    assert second.outcome == AttemptOutcome.DELIVERED
    chats = [json.loads(request.data)["chat_id"] for request, _ in httpserver.log]
    assert chats == [old, new]
    assert "supergroup" in Notification.objects.get().delivery_attempts.first().error
