"""The Slack app through Herald's delivery: one message per incident, edited and threaded after.

Real database rows and the ordinary delivery service; a stand-in Web API.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from receivers.delivery import notification_deliver
from receivers.models import Notification, NotificationState
from tests.factories import AlertGroupFactory, NotificationFactory
from tests.receivers.slack_bot.conftest import slack_receiver
from tests.receivers.transports.slack_api import SlackApi


def deliver(receiver, group, **fields):
    notification = NotificationFactory(receiver=receiver, alert_group=group,
                                       incident=group.incident, **fields)
    notification_deliver(notification_id=notification.id)
    return Notification.objects.get(id=notification.id)


def test_an_incident_is_one_message_edited_in_place_and_a_refire_opens_another(
    alpha, httpserver, settings
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # each message goes at once, not merged
    slack = SlackApi(httpserver).install()
    receiver = slack_receiver(api_url=slack.api_url)
    group = AlertGroupFactory()

    first = deliver(receiver, group)
    assert first.state == NotificationState.DELIVERED
    assert first.vendor_ref == {"channel": "C0HERALD", "ts": "1700000000.000001"}

    second = deliver(receiver, group)  # the group's next message: new alerts, or the next level
    assert second.state == NotificationState.DELIVERED, (second.state, second.last_error)
    assert [call.method for call in slack.calls] == [
        "chat.postMessage", "chat.update", "chat.postMessage"]
    assert slack.calls[1].body["ts"] == "1700000000.000001"
    assert slack.calls[2].body["thread_ts"] == "1700000000.000001"

    group.status, group.incident = "firing", group.incident + 1  # resolved, then fired again
    group.save()
    deliver(receiver, group)
    opened = slack.calls[3]
    assert opened.method == "chat.postMessage" and "thread_ts" not in opened.body
    assert slack.problems == []


def test_a_channel_the_bot_is_not_in_fails_for_good_and_says_why(alpha, httpserver):
    slack = SlackApi(httpserver).install()
    slack.fail("chat.postMessage", "not_in_channel")
    failed = deliver(slack_receiver(api_url=slack.api_url), AlertGroupFactory())
    assert failed.state == NotificationState.FAILED
    assert failed.last_error == "Slack not_in_channel"
    assert failed.vendor_ref is None


def test_slacks_rate_limit_waits_its_retry_after(alpha, httpserver):
    slack = SlackApi(httpserver).install()
    slack.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "120"})
    before = timezone.now()
    waiting = deliver(slack_receiver(api_url=slack.api_url), AlertGroupFactory())
    assert waiting.state == NotificationState.PENDING
    assert waiting.next_attempt_at >= before + timedelta(seconds=120)
