"""Fair workers: one tenant's sends in a worker process are capped, the rest wait their turn.

The slot count is pure and tested as such; the delivery paths are tested
against a real local receiver with the tenant's slots taken by the test, as
a tenant's slow sends in other threads would take them.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from pytest_httpserver import HTTPServer
from werkzeug import Response

from receivers.delivery import notification_deliver, notification_sweep, notifications_deliver
from receivers.delivery.fairness import (
    BUSY_RETRY_MAX_SECONDS,
    BUSY_RETRY_MIN_SECONDS,
    SendSlots,
    busy_retry_seconds,
    send_slot_release,
    send_slot_take,
    sends_in_flight,
)
from receivers.models import DeliveryAttempt, Notification, NotificationState
from receivers.services import receiver_secret_set
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert

# --- The slot count (pure) ---


def test_a_tenant_gets_its_cap_of_slots_and_no_more_until_one_is_freed():
    slots = SendSlots()

    assert [slots.take("alpha", cap=2) for _ in range(3)] == [True, True, False]
    slots.release("alpha")
    assert slots.take("alpha", cap=2) is True
    assert slots.in_flight("alpha") == 2


def test_a_busy_tenant_leaves_the_other_tenants_slots_alone():
    slots = SendSlots()
    for _ in range(4):
        slots.take("alpha", cap=4)

    assert slots.take("alpha", cap=4) is False
    assert slots.take("beta", cap=4) is True
    assert (slots.in_flight("alpha"), slots.in_flight("beta")) == (4, 1)


def test_a_cap_of_zero_means_no_cap():
    slots = SendSlots()

    assert all(slots.take("alpha", cap=0) for _ in range(100))


def test_releasing_every_slot_forgets_the_tenant():
    slots = SendSlots()
    slots.take("alpha", cap=1)
    slots.release("alpha")

    assert slots.in_flight("alpha") == 0
    assert slots._in_flight == {}


def test_a_short_wait_gets_a_slot_freed_meanwhile_and_gives_up_otherwise():
    slots = SendSlots()
    slots.take("alpha", cap=1)
    threading.Timer(0.02, slots.release, args=("alpha",)).start()

    assert slots.take("alpha", cap=1, wait=1.0) is True
    started = time.monotonic()
    assert slots.take("alpha", cap=1, wait=0.05) is False
    assert 0.04 <= time.monotonic() - started < 0.5


def test_a_busy_retry_comes_after_about_a_send_within_bounds_and_jittered():
    rng = random.Random(14)

    quick = [busy_retry_seconds(send_seconds=0.001, rng=rng) for _ in range(200)]
    slow = [busy_retry_seconds(send_seconds=2.0, rng=rng) for _ in range(200)]
    stuck = [busy_retry_seconds(send_seconds=60.0, rng=rng) for _ in range(200)]

    assert BUSY_RETRY_MIN_SECONDS * 0.5 <= min(quick) <= max(quick) <= BUSY_RETRY_MIN_SECONDS * 1.5
    assert 1.0 <= min(slow) <= max(slow) <= 3.0
    assert max(stuck) <= BUSY_RETRY_MAX_SECONDS * 1.5
    assert len({round(s, 6) for s in slow}) > 150  # retries of a backlog do not arrive together


# --- Delivery with the tenant's slots taken ---


@pytest.fixture
def alpha_busy(alpha, settings):
    """Alpha's sends at their cap in this process, as its slow sends in other threads would be."""
    settings.HERALD_TENANT_MAX_CONCURRENT_SENDS = 2
    taken = [send_slot_take(tenant=alpha.schema_name) for _ in range(2)]
    assert taken == [True, True]
    yield alpha
    for _ in taken:
        send_slot_release(tenant=alpha.schema_name)


def test_a_busy_tenants_notification_is_not_sent_but_put_back_without_an_attempt(
    alpha_busy, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook())
    before = timezone.now()

    result = notification_deliver(notification_id=notification.id)

    assert result.tenant_busy and result.outcome is None
    assert BUSY_RETRY_MIN_SECONDS * 0.5 <= result.retry_in <= BUSY_RETRY_MAX_SECONDS * 1.5
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (NotificationState.PENDING, 0)
    assert notification.next_attempt_at >= before + timedelta(seconds=result.retry_in) - timedelta(
        milliseconds=50
    )
    assert "tenant busy" in notification.last_error
    assert not DeliveryAttempt.objects.exists()
    assert httpserver.log == []
    assert sends_in_flight(tenant=alpha_busy.schema_name) == 2  # its own slot was not kept


def test_once_a_slot_is_free_the_put_back_notification_is_delivered_once(
    alpha_busy, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook())
    notification_deliver(notification_id=notification.id)
    send_slot_release(tenant=alpha_busy.schema_name)

    result = notification_deliver(notification_id=notification.id)
    send_slot_take(tenant=alpha_busy.schema_name)  # the fixture gives back two

    assert result.outcome == "delivered"
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (NotificationState.DELIVERED, 1)
    assert len(httpserver.log) == 1
    assert sends_in_flight(tenant=alpha_busy.schema_name) == 2


def test_a_busy_tenants_batch_is_put_back_whole_without_attempts(alpha_busy, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    notifications = [NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(5)]

    results = notifications_deliver(notification_ids=[n.id for n in notifications])

    assert all(result.tenant_busy for result in results.values())
    rows = Notification.objects.filter(id__in=[n.id for n in notifications])
    assert {(row.state, row.attempts) for row in rows} == {(NotificationState.PENDING, 0)}
    assert all(row.next_attempt_at > timezone.now() for row in rows)
    assert not DeliveryAttempt.objects.exists()
    assert httpserver.log == []


def test_a_put_back_notification_is_left_to_its_queued_retry_not_to_the_sweep(
    alpha_busy, httpserver, hook, settings
):
    settings.HERALD_SWEEP_PENDING_AFTER_SECONDS = 0  # the most eager sweep
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook())
    notifications_deliver(notification_ids=[notification.id])

    assert notification_sweep() == []


def test_a_quick_batch_needs_one_slot_at_a_time(alpha, httpserver, hook, settings):
    settings.HERALD_TENANT_MAX_CONCURRENT_SENDS = 2
    send_slot_take(tenant=alpha.schema_name)  # one of two taken elsewhere
    try:
        httpserver.expect_request("/hook").respond_with_data("ok")
        receiver = hook()
        notifications = [
            NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(6)
        ]

        results = notifications_deliver(notification_ids=[n.id for n in notifications])
    finally:
        send_slot_release(tenant=alpha.schema_name)

    assert {result.outcome for result in results.values()} == {"delivered"}
    assert len(httpserver.log) == 6
    assert sends_in_flight(tenant=alpha.schema_name) == 0


def test_another_tenant_is_not_held_back_by_a_busy_one(alpha_busy, beta, httpserver):
    httpserver.expect_request("/beta").respond_with_data("ok")
    with tenant_context(beta):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/beta")})
        notification = NotificationFactory(receiver=receiver)

        results = notifications_deliver(notification_ids=[notification.id])

    assert results[notification.id].outcome == "delivered"
    assert len(httpserver.log) == 1


def test_a_slow_batch_sent_side_by_side_holds_one_slot_as_it_holds_one_worker_thread(
    alpha, hook, settings
):
    settings.HERALD_TENANT_MAX_CONCURRENT_SENDS = 2
    server = HTTPServer(threaded=True)
    server.start()
    in_flight = []

    def slow(request):
        in_flight.append(sends_in_flight(tenant=alpha.schema_name))
        time.sleep(0.15)
        return Response("ok")

    server.expect_request("/slow").respond_with_handler(slow)
    send_slot_take(tenant=alpha.schema_name)  # one of two taken elsewhere
    try:
        receiver = hook()
        receiver_secret_set(receiver=receiver, name="url", value=server.url_for("/slow"))
        notifications = [
            NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(5)
        ]

        results = notifications_deliver(notification_ids=[n.id for n in notifications])
    finally:
        send_slot_release(tenant=alpha.schema_name)
        server.stop()

    assert {result.outcome for result in results.values()} == {"delivered"}
    assert len(in_flight) == 5
    assert max(in_flight) == 2  # the one taken elsewhere, and this batch's one
    assert sends_in_flight(tenant=alpha.schema_name) == 0
