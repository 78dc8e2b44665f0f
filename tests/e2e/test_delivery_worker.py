"""Delivery through the real broker and worker to local receivers that misbehave on purpose."""

from __future__ import annotations

import itertools
import threading

import pytest
from django_tenants.utils import tenant_context
from werkzeug import Response

from receivers.delivery import notifications_deliver, notifications_enqueue
from receivers.models import CircuitState, Notification, NotificationState, ReceiverCircuit
from tests.conftest import wait_for
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert

pytestmark = pytest.mark.e2e


def settled(tenant, count: int) -> list[Notification]:
    """Wait until `count` notifications are in a final state; return all of them."""
    finals = ("delivered", "failed", "folded", "merged", "failed_over")

    def check():
        with tenant_context(tenant):
            rows = list(Notification.objects.order_by("id"))
            return rows if sum(n.state in finals for n in rows) >= count else None

    return wait_for(check, timeout=30)


def answers(*statuses: int, headers: dict | None = None):
    """A handler answering the given statuses in turn, then 200; it counts what it got."""
    lock = threading.Lock()
    pending = iter(statuses)
    received = []

    def handle(request):
        with lock:
            received.append(request.get_json())
            status = next(pending, 200)
        return Response("answer", status=status, headers=headers if status != 200 else None)

    handle.received = received
    return handle


def test_500_then_200_is_delivered_on_retry_with_the_backoff_recorded(
    committed_tenants, celery_worker_thread, httpserver
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook").respond_with_handler(answers(500))
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        notifications_enqueue(notification_ids=[NotificationFactory(receiver=receiver).id])

    [notification] = settled(alpha, 1)

    assert notification.state == NotificationState.DELIVERED
    with tenant_context(alpha):
        attempts = list(notification.delivery_attempts.order_by("number"))
    assert [(a.outcome, a.http_status) for a in attempts] == [("retry", 500), ("delivered", 200)]
    assert 0 <= attempts[0].retry_in_seconds <= 2  # first window of the exponential backoff
    assert attempts[1].retry_in_seconds is None
    assert attempts[1].started_at >= attempts[0].started_at


def test_429_with_retry_after_waits_as_the_vendor_asked(
    committed_tenants, celery_worker_thread, httpserver
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook").respond_with_handler(
        answers(429, headers={"Retry-After": "1"})
    )
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        notifications_enqueue(notification_ids=[NotificationFactory(receiver=receiver).id])

    [notification] = settled(alpha, 1)

    assert notification.state == NotificationState.DELIVERED
    with tenant_context(alpha):
        first, second = notification.delivery_attempts.order_by("number")
    assert (first.http_status, second.http_status) == (429, 200)
    assert first.retry_in_seconds >= 1


def test_401_fails_at_once(committed_tenants, celery_worker_thread, httpserver):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook").respond_with_data('{"error": "bad token"}', status=401)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, max_attempts=6)
        notifications_enqueue(notification_ids=[NotificationFactory(receiver=receiver).id])

    [notification] = settled(alpha, 1)

    assert (notification.state, notification.attempts) == (NotificationState.FAILED, 1)
    assert "bad token" in notification.last_error
    assert len(httpserver.log) == 1


def test_the_circuit_stops_calls_to_a_failing_receiver_then_probes_and_closes(
    committed_tenants, celery_worker_thread, httpserver, settings
):
    settings.HERALD_BREAKER_FAILURE_THRESHOLD = 2
    settings.HERALD_BREAKER_COOLDOWN_SECONDS = 1
    alpha = committed_tenants["alpha"]
    handler = answers(500, 503)
    httpserver.expect_request("/hook").respond_with_handler(handler)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, max_attempts=10)
        ids = [NotificationFactory(receiver=receiver).id for _ in range(4)]
        notifications_enqueue(notification_ids=ids)

    notifications = settled(alpha, 4)

    assert {n.state for n in notifications} == {NotificationState.DELIVERED}
    # Two failures opened the circuit; nothing was sent while it was open;
    # one probe closed it; then the rest went out: 2 + 4 requests, no more.
    assert len(handler.received) == 6
    with tenant_context(alpha):
        circuit = ReceiverCircuit.objects.get(receiver=receiver)
    assert circuit.state == CircuitState.CLOSED and circuit.last_success_at is not None


def test_failover_goes_to_the_fallback_and_is_recorded(
    committed_tenants, celery_worker_thread, httpserver
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/primary").respond_with_data("down", status=503)
    httpserver.expect_request("/backup").respond_with_data("ok")
    with tenant_context(alpha):
        backup = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/backup")})
        primary = ReceiverFactory(
            name="primary",
            secrets={"url": httpserver.url_for("/primary")},
            max_attempts=2,
            fallback=backup,
        )
        notifications_enqueue(notification_ids=[NotificationFactory(receiver=primary).id])

    original, copy = settled(alpha, 2)

    assert original.state == NotificationState.FAILED_OVER
    assert "sent through the fallback receiver 'backup'" in original.last_error
    assert (copy.receiver_name, copy.failover_of_id, copy.state) == (
        "backup", original.id, NotificationState.DELIVERED
    )
    assert [r.path for r, _ in httpserver.log] == ["/primary", "/primary", "/backup"]


def test_over_the_rate_limit_a_digest_is_delivered_with_the_right_count(
    committed_tenants, celery_worker_thread, httpserver
):
    alpha = committed_tenants["alpha"]
    handler = answers()
    httpserver.expect_request("/hook").respond_with_handler(handler)
    numbers = itertools.count(1)
    with tenant_context(alpha):
        receiver = ReceiverFactory(
            secrets={"url": httpserver.url_for("/hook")}, rate_limit="3/2 seconds"
        )
        ids = [
            NotificationFactory(receiver=receiver, alerts=[alert(n=next(numbers))]).id
            for _ in range(8)
        ]
        notifications_enqueue(notification_ids=ids)

    def digest_sent():
        with tenant_context(alpha):
            return Notification.objects.filter(is_digest=True, state="delivered").first()

    digest = wait_for(digest_sent, timeout=30)
    with tenant_context(alpha):
        folded = Notification.objects.filter(state="folded", folded_into=digest).count()
        direct = Notification.objects.filter(is_digest=False, state="delivered").count()
    assert folded == digest.folded_count >= 1
    assert direct + folded == 8  # nothing dropped
    summary = handler.received[-1]["commonAnnotations"]["summary"]
    assert summary.startswith(f"{folded} more alert")
    assert len(handler.received[-1]["alerts"]) == folded
    assert len(handler.received) == direct + 1


def test_a_runner_out_of_time_leaves_the_rest_to_a_task_of_its_own(
    committed_tenants, celery_worker_thread, httpserver, settings
):
    settings.HERALD_DELIVERY_RUNNER_SECONDS = 0  # one claim, then it must leave
    settings.HERALD_DELIVERY_BATCH_SIZE = 5
    alpha = committed_tenants["alpha"]
    handler = answers()
    httpserver.expect_request("/hook").respond_with_handler(handler)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        ids = [NotificationFactory(receiver=receiver, alerts=[alert(n=n)]).id for n in range(23)]

        results = notifications_deliver(notification_ids=[ids[0]], take_due=4)

    assert len(results) == 5  # this task's one claim
    notifications = settled(alpha, 23)  # the rest by the task it enqueued
    assert {n.state for n in notifications} == {NotificationState.DELIVERED}
    assert len(handler.received) == 23  # each once
