"""The Telegram receiver in the admin: its settings, and a test message with its buttons."""

from __future__ import annotations

from receivers.models import Notification, NotificationState, Receiver
from tests.admin.test_permissions import get, post
from tests.receivers.transports.telegram_standin import CHAT, TOKEN, BotApi, telegram_config

ADD = "/admin/receivers/receiver/add/?kind=telegram"


def test_an_admin_adds_a_telegram_bot_with_its_token_encrypted(alpha, client_as, httpserver):
    client = client_as("admin")
    form = get(client, ADD).content.decode()
    for setting in ("bot_token", "chat_id", "message_thread_id", "api_url", "webhook_secret"):
        assert f'name="{setting}"' in form, setting

    response = post(client, ADD, {
        "name": "oncall-telegram", "enabled": "on", "max_attempts": 3, "language": "en",
        "bot_token": TOKEN, "chat_id": str(CHAT), "message_thread_id": "4",
        "api_url": "https://api.telegram.org",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    receiver = Receiver.objects.get(name="oncall-telegram")
    assert (str(receiver.config["chat_id"]), receiver.config["message_thread_id"]) == (
        str(CHAT), 4)
    assert receiver.secrets == {"bot_token": TOKEN}
    page = get(client, f"/admin/receivers/receiver/{receiver.pk}/change/").content.decode()
    assert TOKEN not in page


def test_the_test_message_shows_the_buttons_and_keeps_its_reference(
    alpha, client_as, httpserver
):
    api = BotApi(httpserver)
    receiver = Receiver.objects.create(name="oncall-telegram", kind="telegram",
                                       config=telegram_config(httpserver),
                                       secrets={"bot_token": TOKEN})
    response = post(client_as("admin"), "/admin/receivers/receiver/", {
        "action": "send_test_notification", "_selected_action": [receiver.pk],
    })
    assert response.status_code == 302

    [sent] = api.of("sendMessage")
    labels = [button["text"] for row in sent["reply_markup"]["inline_keyboard"] for button in row]
    assert labels == ["✅ Acknowledge", "☑️ Resolve", "🔕 Silence 1 h"]
    notification = Notification.objects.get(receiver=receiver)
    assert notification.state == NotificationState.DELIVERED
    assert notification.vendor_ref == {"chat_id": str(CHAT), "message_id": "101",
                                       "message_thread_id": ""}
