"""Without a grouping window, a group's messages to a receiver still go in the order written.

With HERALD_GROUP_WINDOW_SECONDS=0 each message goes as soon as it is owed,
unmerged; but a resolve claimed while its firing is still in flight or owed
waits for it, so a receiver that opens incidents never sees the resolve first.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from receivers.delivery import notifications_deliver
from receivers.delivery.grouping import EARLIER_MESSAGE_REASON, ORDER_WAIT_SECONDS
from receivers.models import Notification, NotificationState
from tests.factories import AlertGroupFactory, NotificationFactory
from tests.receivers.helpers import alert


@pytest.fixture
def no_window(settings):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0


@pytest.fixture
def firing_then_resolve(alpha, hook, httpserver, no_window):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver, group = hook(), AlertGroupFactory()
    firing = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert()])
    resolve = NotificationFactory(
        receiver=receiver, alert_group=group, status="resolved", alerts=[alert("resolved")]
    )
    return firing, resolve


def sent_statuses(httpserver) -> list[str]:
    return [request.get_json()["alerts"][0]["status"] for request, _ in httpserver.log]


def test_a_resolve_claimed_before_its_firing_waits_for_it_then_follows(
    firing_then_resolve, httpserver
):
    firing, resolve = firing_then_resolve

    early = notifications_deliver(notification_ids=[resolve.id])[resolve.id]

    assert early.outcome is None and early.retry_in == pytest.approx(ORDER_WAIT_SECONDS)
    resolve.refresh_from_db()
    assert (resolve.state, resolve.last_error) == ("pending", EARLIER_MESSAGE_REASON)
    assert httpserver.log == []

    assert notifications_deliver(notification_ids=[firing.id])[firing.id].outcome == "delivered"
    assert notifications_deliver(notification_ids=[resolve.id])[resolve.id].outcome == "delivered"
    assert sent_statuses(httpserver) == ["firing", "resolved"]


def test_a_resolve_waits_while_its_firing_is_being_sent(firing_then_resolve, httpserver):
    firing, resolve = firing_then_resolve
    Notification.objects.filter(id=firing.id).update(  # another worker's send in flight
        state=NotificationState.SENDING, next_attempt_at=timezone.now() + timedelta(seconds=25)
    )

    result = notifications_deliver(notification_ids=[resolve.id])[resolve.id]

    assert result.outcome is None and result.retry_in == pytest.approx(ORDER_WAIT_SECONDS)
    assert httpserver.log == []


def test_a_resolve_waits_for_a_firing_that_waits_for_its_retry(firing_then_resolve, httpserver):
    firing, resolve = firing_then_resolve
    Notification.objects.filter(id=firing.id).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    result = notifications_deliver(notification_ids=[resolve.id])[resolve.id]

    assert result.outcome is None and 30 < result.retry_in <= 30 + ORDER_WAIT_SECONDS
    assert httpserver.log == []


def test_owed_together_the_firing_goes_first_and_nothing_is_merged(
    firing_then_resolve, httpserver
):
    firing, resolve = firing_then_resolve

    results = notifications_deliver(notification_ids=[resolve.id, firing.id])

    assert results[firing.id].outcome == "delivered"
    if results[resolve.id].outcome is None:  # held for the firing's send: its retry sends it
        results = notifications_deliver(notification_ids=[resolve.id])
    assert results[resolve.id].outcome == "delivered"
    assert sent_statuses(httpserver) == ["firing", "resolved"]
    assert Notification.objects.filter(state=NotificationState.MERGED).count() == 0


def test_the_later_message_holds_nothing_back_and_other_groups_are_not_held(
    alpha, hook, httpserver, no_window
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver, group = hook(), AlertGroupFactory()
    first = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=1)])
    NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=2)])  # later
    other_group = NotificationFactory(receiver=receiver, alerts=[alert(n=3)])

    results = notifications_deliver(notification_ids=[first.id, other_group.id])

    assert {results[first.id].outcome, results[other_group.id].outcome} == {"delivered"}
