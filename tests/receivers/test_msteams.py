"""Teams: a Workflows webhook message carrying an Adaptive Card, to a real local server."""

from __future__ import annotations

import json

import pytest

from receivers.message_rendering import message_render
from receivers.transports.msteams import (
    CARD_CONTENT_TYPE,
    MESSAGE_LIMIT_BYTES,
    msteams_payload,
)
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport

STATUSES = ("firing", "resolved")


def payload_for(message):
    return msteams_payload(
        rendered=message_render(channel="msteams", message=message), message=message
    )


def card_of(payload):
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    return attachment["content"]


def test_the_message_wraps_an_adaptive_card_not_a_connector_card():
    payload = payload_for(alert_message())

    assert payload["type"] == "message"
    assert "@type" not in payload and "themeColor" not in payload  # no MessageCard
    card = card_of(payload)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    header = card["body"][0]
    assert header["type"] == "Container" and header["style"] == "attention"
    assert header["items"][0]["text"].startswith("🔴 [FIRING:2] HighLatency")
    assert card["body"][1]["type"] == "TextBlock" and card["body"][1]["wrap"] is True
    assert {"title": "severity", "value": "critical"} in card["body"][2]["facts"]
    actions = {action["title"]: action for action in card["actions"]}
    assert actions["Silence"]["type"] == "Action.OpenUrl"


def test_a_resolved_card_is_green_and_says_so():
    card = card_of(payload_for(alert_message("resolved")))
    assert card["body"][0]["style"] == "good"
    assert card["body"][0]["items"][0]["text"].startswith("✅ [RESOLVED]")
    assert "Silence" not in {action["title"] for action in card["actions"]}


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_message_stays_under_teams_size_limit(kind, status):
    payload = payload_for(MESSAGES[kind](status))
    assert len(json.dumps(payload).encode()) <= MESSAGE_LIMIT_BYTES
    assert_whole_text(card_of(payload)["body"][1]["text"])


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_posts_the_card_to_the_workflow(httpserver, kind, status):
    path = "/workflows/a1b2/triggers/manual/paths/invoke"
    httpserver.expect_oneshot_request(
        path, method="POST", headers={"Content-Type": "application/json"}
    ).respond_with_data("", status=202)
    message = MESSAGES[kind](status)

    result = transport("msteams", secrets={"url": httpserver.url_for(path)}).send(message)

    assert result.http_status == 202
    [(request, _)] = httpserver.log
    assert json.loads(request.data) == payload_for(message)
    assert len(request.data) <= MESSAGE_LIMIT_BYTES
