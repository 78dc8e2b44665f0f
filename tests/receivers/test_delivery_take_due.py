"""A task takes along its tenant's due notifications; their own tasks then have nothing to do."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from receivers.delivery import notifications_deliver
from receivers.models import NotificationState
from tests.factories import NotificationFactory


def test_one_task_delivers_the_tenants_due_notifications_and_their_tasks_find_them_settled(
    alpha, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    first, *others = NotificationFactory.create_batch(4, receiver=receiver)

    results = notifications_deliver(notification_ids=[first.id], take_due=24)

    assert {i: r.outcome for i, r in results.items()} == {
        n.id: "delivered" for n in [first, *others]
    }
    assert len(httpserver.log) == 4
    for other in others:  # their own tasks come later: nothing is sent twice
        (late,) = notifications_deliver(notification_ids=[other.id], take_due=24).values()
        assert (late.outcome, late.retry_in) == (None, None)
    assert len(httpserver.log) == 4


def test_a_task_that_comes_before_its_retry_is_due_sends_nothing(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    receiver = hook(max_attempts=5)
    first, second = NotificationFactory.create_batch(2, receiver=receiver)
    results = notifications_deliver(notification_ids=[first.id], take_due=24)
    assert results[second.id].outcome == "retry"  # taken along, owed a retry later
    second.refresh_from_db()
    assert (second.state, second.attempts) == (NotificationState.PENDING, 1)
    # Full jitter may make a backoff tiny: make sure this one is still running.
    first.refresh_from_db()
    later = timezone.now() + timedelta(minutes=1)
    for owed in (first, second):
        owed.next_attempt_at = later
        owed.save(update_fields=["next_attempt_at"])

    # Its own first task arrives now, before the backoff has passed.
    early = notifications_deliver(notification_ids=[second.id], take_due=24)[second.id]

    assert (early.outcome, early.retry_in) == (None, None)
    second.refresh_from_db()
    assert second.attempts == 1 and len(httpserver.log) == 2


def test_notifications_held_for_later_are_not_taken_along(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    first = NotificationFactory(receiver=receiver)
    waiting = NotificationFactory(
        receiver=receiver, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    results = notifications_deliver(notification_ids=[first.id], take_due=24)

    assert set(results) == {first.id}
    assert len(httpserver.log) == 1
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts) == (NotificationState.PENDING, 0)
