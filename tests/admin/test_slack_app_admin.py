"""The Slack app in the admin: its settings (secrets encrypted), and a test message with buttons."""

from __future__ import annotations

from receivers.models import Notification, NotificationState, Receiver
from tests.admin.test_permissions import get, post
from tests.receivers.transports.slack_api import SIGNING_SECRET, TOKEN, SlackApi

ADD = "/admin/receivers/receiver/add/?kind=slack_app"


def test_an_admin_adds_a_slack_app_with_its_secrets_encrypted(alpha, client_as, httpserver):
    client = client_as("admin")
    form = get(client, ADD).content.decode()
    for setting in ("bot_token", "signing_secret", "channel", "reply_broadcast", "api_url"):
        assert f'name="{setting}"' in form, setting

    response = post(client, ADD, {
        "name": "oncall-slack", "enabled": "on", "max_attempts": 3, "language": "en",
        "bot_token": TOKEN, "signing_secret": SIGNING_SECRET, "channel": "C0HERALD",
        "api_url": "https://slack.com/api",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    receiver = Receiver.objects.get(name="oncall-slack")
    assert receiver.config["channel"] == "C0HERALD"
    assert receiver.secrets == {"bot_token": TOKEN, "signing_secret": SIGNING_SECRET}
    page = get(client, f"/admin/receivers/receiver/{receiver.pk}/change/").content.decode()
    assert TOKEN not in page and SIGNING_SECRET not in page


def test_a_wrong_token_is_refused_naming_the_setting(alpha, client_as):
    response = post(client_as("admin"), ADD, {
        "name": "oncall-slack", "enabled": "on", "max_attempts": 3, "language": "en",
        "bot_token": "https://hooks.slack.com/services/T/B/x", "channel": "C0HERALD",
        "api_url": "https://slack.com/api",
    })
    assert response.status_code == 200
    assert "must be a Slack bot token" in response.content.decode()
    assert not Receiver.objects.filter(name="oncall-slack").exists()


def test_the_test_message_shows_the_buttons(alpha, client_as, httpserver):
    slack = SlackApi(httpserver).install()
    receiver = Receiver.objects.create(
        name="oncall-slack", kind="slack_app",
        config={"channel": "C0HERALD", "api_url": slack.api_url},
        secrets={"bot_token": TOKEN, "signing_secret": SIGNING_SECRET},
    )
    response = post(client_as("admin"), "/admin/receivers/receiver/", {
        "action": "send_test_notification", "_selected_action": [receiver.pk],
    })
    assert response.status_code == 302

    (call,) = slack.calls
    assert call.method == "chat.postMessage" and call.body["channel"] == "C0HERALD"
    actions = [element["action_id"] for block in call.body["blocks"]
               if block["type"] == "actions" for element in block["elements"]
               if "value" in element]
    assert actions == ["herald-action-acknowledge", "herald-action-resolve",
                       "herald-action-silence_1h", "herald-action-silence_4h",
                       "herald-action-silence_24h"]
    notification = Notification.objects.get(receiver=receiver)
    assert notification.state == NotificationState.DELIVERED
    # Kept, so that the test incident's later messages would edit this one.
    assert notification.vendor_ref == {"channel": "C0HERALD", "ts": "1700000000.000001"}
