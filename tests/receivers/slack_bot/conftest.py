"""Signed Slack requests to the app's endpoints, as Slack would post them."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from receivers.slack_bot.signature import slack_signature
from tests.factories import ReceiverFactory
from tests.receivers.transports.slack_api import SIGNING_SECRET, TOKEN


def slack_receiver(*, api_url: str = "https://slack.com/api", signing_secret=SIGNING_SECRET,
                   **fields):
    return ReceiverFactory(
        kind="slack_app", config={"channel": "C0HERALD", "api_url": api_url},
        secrets={"bot_token": TOKEN, "signing_secret": signing_secret}, **fields,
    )


def click_body(*, token: str, user_id: str = "U0ALICE", response_url: str = "",
               action: str = "acknowledge") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T1"},
        "team": {"id": "T1"},
        "channel": {"id": "C0HERALD"},
        "message": {"ts": "1700000000.000001"},
        "response_url": response_url or "https://hooks.slack.com/actions/T1/1/x",
        # Unique per click, as Slack's: no two tests' bodies are alike.
        "trigger_id": secrets.token_hex(12),
        "actions": [{"action_id": f"herald-action-{action}", "block_id": "herald-actions",
                     "type": "button", "value": token}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(*, text: str = "oncall", user_id: str = "U0ALICE") -> bytes:
    return urlencode({
        "command": "/herald", "text": text, "user_id": user_id, "user_name": "alice",
        "team_id": "T1", "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": secrets.token_hex(12),
    }).encode()


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, age: int = 0,
                   timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()) - age)
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
        "HTTP_X_SLACK_SIGNATURE": slack_signature(signing_secret=secret, timestamp=stamp,
                                                  body=body),
    }


def post(path: str, body: bytes, *, host: str = "127.0.0.1", **headers):
    return Client(HTTP_HOST=host).post(
        path, data=body, content_type="application/x-www-form-urlencoded", **headers
    )


def interactive_path(tenant, receiver) -> str:
    return f"/slack/{tenant.slug}/{receiver.id}/interactive/"


def command_path(tenant, receiver) -> str:
    return f"/slack/{tenant.slug}/{receiver.id}/commands/"


@pytest.fixture
def receiver(alpha):
    return slack_receiver(name="oncall-slack")
