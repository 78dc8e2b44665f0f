"""Crashes for real: a `celery worker` process killed with SIGKILL mid-send, and the
broker stopped while a delivery is in flight. Nothing accepted is lost.

The workers here are subprocesses (threads pool, with embedded beat for the
sweep) against the test database and the suite's broker, on a queue of their
own so the suite's in-process worker does not take their tasks.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
import uuid

import pytest
from django_tenants.utils import tenant_context
from werkzeug import Response

from receivers.due import notifications_due_note
from receivers.models import Notification, NotificationState
from receivers.tasks import deliver_notification
from tests.conftest import broker, wait_for
from tests.factories import NotificationFactory, ReceiverFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker_process(celery_worker_processes):
    """Start workers on a private queue, so the suite's in-process worker leaves it alone."""
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    start = functools.partial(celery_worker_processes, queue=queue)
    start.queue = queue
    return start


def state_of(tenant, notification_id: int) -> Notification:
    with tenant_context(tenant):
        return Notification.objects.get(id=notification_id)


def test_a_worker_killed_mid_send_is_made_good_after_restart(
    committed_tenants, httpserver, worker_process
):
    alpha = committed_tenants["alpha"]
    keys: list[str] = []
    first_arrived = threading.Event()

    def receiver_app(request):
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            first_arrived.set()
            time.sleep(1)  # the sender is killed while we take our time
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(receiver_app)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        notification = NotificationFactory(receiver=receiver)
        deliver_notification.apply_async((notification.id,), queue=worker_process.queue)
        # As every enqueue does: the sweep visits the tenant if the task is lost.
        notifications_due_note()

    doomed = worker_process()
    wait_for(first_arrived.is_set, timeout=60)
    os.killpg(doomed.pid, signal.SIGKILL)  # SIGKILL mid-send, with the beat it runs
    doomed.wait()
    assert state_of(alpha, notification.id).state == NotificationState.SENDING

    worker_process()  # the restart

    delivered = wait_for(
        lambda: (n := state_of(alpha, notification.id)).state == NotificationState.DELIVERED
        and n,
        timeout=60,
    )
    # The first send reached the receiver but its answer was lost with the
    # worker, so it was sent again (never more): both carry one idempotency
    # key, so a receiver that deduplicates sees it once.
    print(f"sends that reached the receiver: {len(keys)}")
    assert 1 <= len(keys) <= 2
    assert set(keys) == {f"alpha-{notification.id}"}
    assert delivered.attempts == len(keys)
    with tenant_context(alpha):
        assert list(delivered.delivery_attempts.values_list("outcome", flat=True)) == [
            "delivered"
        ]


def test_a_broker_outage_during_delivery_loses_nothing(
    committed_tenants, httpserver, worker_process
):
    alpha = committed_tenants["alpha"]
    statuses: list[int] = []
    first_arrived, broker_down = threading.Event(), threading.Event()

    def receiver_app(request):
        if not statuses:
            first_arrived.set()
            broker_down.wait(30)
            statuses.append(503)  # so the worker must schedule a retry, with no broker
        else:
            statuses.append(200)
        return Response("answer", status=statuses[-1])

    httpserver.expect_request("/hook").respond_with_handler(receiver_app)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, max_attempts=5)
        notification = NotificationFactory(receiver=receiver)
        deliver_notification.apply_async((notification.id,), queue=worker_process.queue)

    worker_process()
    wait_for(first_arrived.is_set, timeout=60)
    broker.stop()
    try:
        broker_down.set()
        with tenant_context(alpha):
            wait_for(
                lambda: Notification.objects.filter(
                    id=notification.id, state=NotificationState.PENDING, attempts=1
                ).exists(),
                timeout=30,
            )
    finally:
        broker.start()

    delivered = wait_for(
        lambda: (n := state_of(alpha, notification.id)).state == NotificationState.DELIVERED
        and n,
        timeout=60,
    )
    assert statuses == [503, 200]
    with tenant_context(alpha):
        assert list(
            delivered.delivery_attempts.values_list("outcome", "http_status")
        ) == [("retry", 503), ("delivered", 200)]
