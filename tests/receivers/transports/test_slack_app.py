"""The Slack app channel against a stand-in Web API: post once, then edit in place and thread.

The stand-in (slack_api.py) refuses what Slack would: a wrong token, no
channel or ts, text over 40,000 characters, more than 50 blocks, a button
value over 2,000 characters.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from werkzeug import Response

from receivers.messages import MessageAction
from receivers.transports import SettingsError, TransportError
from receivers.transports.slack_app import SlackAppSettings, SlackAppTransport
from tests.receivers.helpers import MESSAGES, alert_message, transport
from tests.receivers.transports.slack_api import SIGNING_SECRET, TOKEN, SlackApi

ROOT = {"channel": "C0HERALD", "ts": "1700000000.000001"}

FIRING_ACTIONS = (
    MessageAction("acknowledge", "Acknowledge", "https://h/act/1/", "a.1.1.x.tagacknowledge"),
    MessageAction("resolve", "Resolve", "https://h/act/2/", "r.1.1.x.tagresolve"),
    MessageAction("silence_1h", "Silence 1 h", "https://h/act/3/", "1.1.1.x.tagsilence1"),
    MessageAction("silence_4h", "Silence 4 h", "https://h/act/4/", "4.1.1.x.tagsilence4"),
    MessageAction("silence_24h", "Silence 24 h", "https://h/act/5/", "d.1.1.x.tagsilence24"),
)
ACKED_ACTIONS = (
    MessageAction("unacknowledge", "Unacknowledge", "https://h/act/6/", "u.1.1.x.tagunack"),
    *FIRING_ACTIONS[1:],
)


@pytest.fixture
def slack(httpserver):
    return SlackApi(httpserver).install()


def app(slack, **config):
    return transport("slack_app", config={"channel": "C0HERALD", "api_url": slack.api_url,
                                          **config},
                     secrets={"bot_token": TOKEN, "signing_secret": SIGNING_SECRET})


def message(status="firing", **fields):
    return replace(alert_message(status),
                   **{"alert_group_id": 1, "incident": 1, "actions": FIRING_ACTIONS, **fields})


def buttons(body):
    return [element for block in body.get("blocks", []) if block["type"] == "actions"
            for element in block["elements"] if "value" in element]


def test_the_first_message_of_an_incident_is_posted_with_its_buttons(slack):
    result = app(slack).send(message())

    (call,) = slack.calls
    assert call.method == "chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.body["channel"] == "C0HERALD"
    assert "thread_ts" not in call.body
    assert call.body["text"].startswith("🔴 [FIRING:2] HighLatency")
    assert call.body["blocks"][0]["type"] == "header"
    assert [(b["action_id"], b["value"]) for b in buttons(call.body)] == [
        (f"herald-action-{a.action}", a.token) for a in FIRING_ACTIONS
    ]
    assert "*🔴 Firing*" in str(call.body["blocks"])
    assert result.vendor_ref == {"channel": "C0HERALD", "ts": "1700000000.000001"}
    assert slack.problems == []


def test_a_later_message_edits_the_original_and_replies_in_its_thread(slack):
    acked = message(thread_root_ref=ROOT, group_state="acknowledged", acknowledged_by="Alice",
                    acknowledged=True, group_update="acknowledged", actions=ACKED_ACTIONS)
    result = app(slack).send(acked)

    update, reply = slack.calls
    assert update.method == "chat.update"
    assert (update.body["channel"], update.body["ts"]) == (ROOT["channel"], ROOT["ts"])
    assert "*👀 Acknowledged by Alice*" in str(update.body["blocks"])
    actions = [b["action_id"] for b in buttons(update.body)]
    assert "herald-action-acknowledge" not in actions
    assert "herald-action-unacknowledge" in actions
    assert reply.method == "chat.postMessage"
    assert reply.body["thread_ts"] == ROOT["ts"]
    assert reply.body["channel"] == ROOT["channel"]
    assert reply.body["reply_broadcast"] is False
    assert reply.body["text"] == "👀 Acknowledged by Alice"
    assert result.vendor_ref == ROOT
    assert slack.problems == []


def test_a_resolved_incident_loses_its_buttons_and_the_follow_up_may_be_broadcast(slack):
    resolved = message("resolved", thread_root_ref=ROOT, group_state="resolved",
                       resolved_by="Bob", actions=())
    app(slack, reply_broadcast=True).send(resolved)

    update, reply = slack.calls
    assert buttons(update.body) == []
    assert "*✅ Resolved by Bob*" in str(update.body["blocks"])
    assert reply.body["reply_broadcast"] is True
    assert reply.body["text"].startswith("✅ Resolved by Bob:")


def test_a_name_cannot_mention_or_link_in_the_message(slack):
    app(slack).send(message(thread_root_ref=ROOT, group_state="acknowledged",
                            acknowledged_by="<!channel> <https://evil|x>",
                            group_update="acknowledged"))
    update, reply = slack.calls
    assert "<!channel>" not in str(update.body["blocks"]) + reply.body["text"]
    assert "&lt;!channel&gt;" in reply.body["text"]


def test_an_original_deleted_in_slack_is_posted_anew(slack):
    slack.fail("chat.update", "message_not_found")
    result = app(slack).send(message(thread_root_ref=ROOT))

    update, posted = slack.calls
    assert update.method == "chat.update"
    assert posted.method == "chat.postMessage" and "thread_ts" not in posted.body
    assert result.vendor_ref == {"channel": "C0HERALD", "ts": "1700000000.000001"}


@pytest.mark.parametrize("error", [
    "channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "token_revoked",
])
def test_errors_that_will_happen_again_fail_for_good_without_the_token(slack, error):
    slack.fail("chat.postMessage", error)
    with pytest.raises(TransportError) as raised:
        app(slack).send(message())
    assert raised.value.permanent
    assert raised.value.message == f"Slack {error}"
    assert TOKEN not in raised.value.message


def test_slacks_rate_limit_is_retried_after_its_retry_after(slack):
    slack.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "7"})
    with pytest.raises(TransportError) as raised:
        app(slack).send(message())
    assert not raised.value.permanent
    assert (raised.value.http_status, raised.value.retry_after) == (429, 7.0)


def test_a_rate_limited_update_is_retried_too(slack):
    slack.fail("chat.update", "ratelimited", status=429, headers={"Retry-After": "30"})
    with pytest.raises(TransportError) as raised:
        app(slack).send(message(thread_root_ref=ROOT))
    assert (raised.value.permanent, raised.value.retry_after) == (False, 30.0)
    assert [call.method for call in slack.calls] == ["chat.update"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_slacks_own_trouble_is_retried(httpserver, status):
    httpserver.expect_request("/api/chat.postMessage").respond_with_response(
        Response("upstream error", status=status)
    )
    api = type("Api", (), {"api_url": httpserver.url_for("/api")})
    with pytest.raises(TransportError) as raised:
        app(api).send(message())
    assert not raised.value.permanent


@pytest.mark.parametrize("kind", MESSAGES)
def test_every_message_fits_slacks_limits(slack, kind):
    long = replace(MESSAGES[kind]("firing"), alert_group_id=1, incident=1,
                   actions=FIRING_ACTIONS)
    app(slack).send(long)
    app(slack).send(replace(long, thread_root_ref=ROOT))

    assert slack.problems == []
    for call in slack.calls:
        assert len(call.body["text"]) <= 40_000
        assert len(call.body.get("blocks", [])) <= 50
        assert all(len(b["value"]) <= 2_000 for b in buttons(call.body))


def test_a_button_whose_token_is_too_long_is_left_out(slack):
    huge = MessageAction("resolve", "Resolve", "https://h/", "x" * 2_001)
    app(slack).send(message(actions=(FIRING_ACTIONS[0], huge)))
    assert [b["action_id"] for b in buttons(slack.calls[0].body)] == ["herald-action-acknowledge"]


def test_settings_name_what_is_wrong_and_never_echo_the_token():
    with pytest.raises(SettingsError) as raised:
        SlackAppSettings.parse(config={"channel": "not a channel!"},
                               secrets={"bot_token": "hunter2-not-a-token", "signing_secret": "x"})
    assert set(raised.value.errors) == {"channel", "bot_token", "signing_secret"}
    assert "hunter2" not in str(raised.value)
    settings = SlackAppSettings.parse(config={"channel": "#oncall"}, secrets={"bot_token": TOKEN})
    assert (settings.reply_broadcast, settings.api_url) == (False, "https://slack.com/api")


def test_a_person_is_paged_by_dm_to_their_member_id():
    assert SlackAppTransport.contact_address_clean(" u0alice ") == "U0ALICE"
    assert SlackAppTransport.addressed_to({"channel": "C0HERALD"}, "W0ENTERPRISE") == {
        "channel": "W0ENTERPRISE"
    }
    for wrong in ("alice", "C0CHANNEL", "U", "U0" + "A" * 30):
        with pytest.raises(ValueError, match="member id"):
            SlackAppTransport.contact_address_clean(wrong)
