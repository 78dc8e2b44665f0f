"""Discord: content plus an embed within Discord's limits, to a real local server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from receivers.message_rendering import message_render
from receivers.transports import TransportError
from receivers.transports.discord import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBEDS_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    DiscordSettings,
    discord_payload,
)
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport

STATUSES = ("firing", "resolved")
NOW = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)


def payload_for(message, **config):
    settings = DiscordSettings.parse(config=config, secrets={"url": "https://discord.test/w/1/t"})
    return discord_payload(
        rendered=message_render(channel="discord", message=message),
        message=message,
        settings=settings,
        now=NOW,
    )


def embed_chars(embed):
    return (
        len(embed.get("title", ""))
        + len(embed["description"])
        + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
        + len(embed["footer"]["text"])
    )


def test_a_firing_message_has_content_and_a_red_embed_and_mentions_nobody():
    payload = payload_for(alert_message(), username="Herald")

    assert payload["content"].startswith("🔴 [FIRING:2] HighLatency")
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["username"] == "Herald"
    [embed] = payload["embeds"]
    assert embed["color"] == 0xD32F2F
    assert embed["timestamp"] == "2026-11-23T10:05:00+00:00"
    assert "**p99 latency on web-1 is 2.4s**" in embed["description"]
    assert {field["name"] for field in embed["fields"]} >= {"Source", "Silence"}


def test_a_resolved_embed_is_green():
    payload = payload_for(alert_message("resolved"))
    assert payload["content"].startswith("✅ [RESOLVED]")
    assert payload["embeds"][0]["color"] == 0x2E7D32


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_message_fits_discords_limits(kind, status):
    payload = payload_for(MESSAGES[kind](status))
    [embed] = payload["embeds"]

    assert len(payload["content"]) <= CONTENT_LIMIT
    assert len(embed["description"]) <= DESCRIPTION_LIMIT
    assert all(len(field["value"]) <= FIELD_VALUE_LIMIT for field in embed["fields"])
    assert embed_chars(embed) <= EMBEDS_TOTAL_LIMIT
    assert_whole_text(embed["description"])
    assert_whole_text(payload["content"])


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_posts_to_the_webhook(httpserver, kind, status):
    path = "/api/webhooks/123/tok-en"
    httpserver.expect_oneshot_request(path, method="POST").respond_with_data("", status=204)

    result = transport("discord", secrets={"url": httpserver.url_for(path)}).send(
        MESSAGES[kind](status)
    )

    assert result.http_status == 204
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert embed_chars(body["embeds"][0]) <= EMBEDS_TOTAL_LIMIT


def test_rate_limits_are_retried_after_the_time_discord_asks(httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response(
            json.dumps({"message": "You are being rate limited.", "retry_after": 1.5}),
            status=429,
            content_type="application/json",
        )
    )
    with pytest.raises(TransportError) as failure:
        transport("discord", secrets={"url": httpserver.url_for("/hook")}).send(alert_message())
    assert failure.value.permanent is False
    assert failure.value.retry_after == 1.5
