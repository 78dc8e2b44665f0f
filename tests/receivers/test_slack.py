"""Slack: Block Kit with a text fallback, within Block Kit's limits, to a real local server."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from receivers.message_rendering import message_render
from receivers.transports import TransportError
from receivers.transports.slack import (
    BODY_LIMIT,
    BUTTON_TEXT_LIMIT,
    FALLBACK_LIMIT,
    HEADER_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    slack_payload,
)
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport

STATUSES = ("firing", "resolved")


def payload_for(message):
    return slack_payload(rendered=message_render(channel="slack", message=message), message=message)


def test_a_firing_message_has_header_sections_context_and_link_buttons():
    payload = payload_for(alert_message())

    kinds = [block["type"] for block in payload["blocks"]]
    assert kinds[0] == "header" and kinds[-2:] == ["context", "actions"]
    assert set(kinds[1:-2]) == {"section"}
    header = payload["blocks"][0]["text"]
    assert header["type"] == "plain_text" and header["text"].startswith("🔴 [FIRING:2] HighLatency")
    assert payload["blocks"][1]["text"]["type"] == "mrkdwn"
    buttons = {b["action_id"]: b for b in payload["blocks"][-1]["elements"]}
    assert set(buttons) == {"herald-generator", "herald-silence", "herald-alertmanager"}
    assert "#/silences/new?filter=" in buttons["herald-silence"]["url"]
    assert payload["text"].startswith("🔴 [FIRING:2] HighLatency")


def test_a_resolved_message_says_so_and_offers_no_silence():
    payload = payload_for(alert_message("resolved"))
    assert payload["blocks"][0]["text"]["text"].startswith("✅ [RESOLVED] HighLatency")
    actions = [b["action_id"] for b in payload["blocks"][-1]["elements"]]
    assert "herald-silence" not in actions


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_message_fits_block_kits_limits(kind, status):
    payload = payload_for(MESSAGES[kind](status))
    blocks = payload["blocks"]

    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= HEADER_LIMIT
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections and all(0 < len(text) <= SECTION_LIMIT for text in sections)
    assert sum(len(text) for text in sections) <= BODY_LIMIT
    for button in blocks[-1]["elements"]:
        assert len(button["text"]["text"]) <= BUTTON_TEXT_LIMIT
    assert len(payload["text"]) <= FALLBACK_LIMIT
    for text in [*sections, payload["text"], blocks[0]["text"]["text"]]:
        assert_whole_text(text)


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_posts_the_payload_to_the_webhook(httpserver, kind, status):
    httpserver.expect_oneshot_request(
        "/services/T000/B000/XXXX", method="POST", headers={"Content-Type": "application/json"}
    ).respond_with_data("ok")
    message = MESSAGES[kind](status)

    slack = transport("slack", secrets={"url": httpserver.url_for("/services/T000/B000/XXXX")})
    result = slack.send(message)

    assert result.http_status == 200
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert body == payload_for(message)
    assert body["blocks"][0]["type"] == "header"


@pytest.mark.parametrize(
    ("status", "answer", "permanent"),
    [
        (404, "no_service", True),
        (410, "channel_is_archived", True),
        (429, "", False),
        (500, "", False),
    ],
)
def test_slack_errors_are_told_apart(httpserver, status, answer, permanent):
    httpserver.expect_request("/hook").respond_with_response(Response(answer, status=status))
    with pytest.raises(TransportError) as failure:
        transport("slack", secrets={"url": httpserver.url_for("/hook")}).send(alert_message())
    assert failure.value.permanent is permanent
    assert answer in failure.value.message
    assert "/hook" not in failure.value.message
