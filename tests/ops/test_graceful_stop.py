"""A worker stopped as systemd stops it (SIGTERM to its main process) loses and repeats nothing.

The worker is a real `celery worker` process; the receiver a local HTTP
server slow enough that the stop lands mid-send. The worker finishes the
send in flight and the tasks it had accepted (Celery's warm shutdown), leaves
nothing leased, and exits 0; anything it had not taken stays pending in the
database for another worker (the sweep). Every notification reaches the
receiver exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
from django_tenants.utils import tenant_context
from werkzeug import Response

from receivers.models import Notification, NotificationState
from receivers.tasks import deliver_notification
from tests.conftest import wait_for, workers_answering
from tests.e2e.conftest import celery_worker_processes  # noqa: F401 - a fixture
from tests.factories import NotificationFactory, ReceiverFactory

pytestmark = pytest.mark.e2e
SLOW_SECONDS = 2.0


def test_a_worker_stopped_mid_send_finishes_it_and_nothing_is_sent_twice(
    committed_tenants, httpserver, celery_worker_processes  # noqa: F811
):
    alpha = committed_tenants["alpha"]
    keys: list[str] = []
    first_arrived = threading.Event()

    def slow_receiver(request):
        keys.append(request.headers["Idempotency-Key"])
        first_arrived.set()
        time.sleep(SLOW_SECONDS)  # the stop arrives while we take our time
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(slow_receiver)
    queue = f"stop-{uuid.uuid4().hex[:8]}"
    # One runner claiming one at a time, so most of the work is still queued in the
    # worker when the stop comes.
    env = {"HERALD_GROUP_WINDOW_SECONDS": "0", "HERALD_TENANT_MAX_CONCURRENT_SENDS": "1",
           "HERALD_DELIVERY_BATCH_SIZE": "1"}
    stopped = celery_worker_processes(queue=queue, env=env)
    # The stop must find a worker that has started (its signal handlers in place).
    wait_for(lambda: any(name.startswith(queue) for name in workers_answering(timeout=1)),
             timeout=90)
    with tenant_context(alpha):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        ids = [NotificationFactory(receiver=receiver).id for _ in range(4)]
        for notification_id in ids:
            deliver_notification.apply_async((notification_id,), queue=queue)
    wait_for(first_arrived.is_set, timeout=60)
    stop_sent = time.monotonic()
    os.kill(stopped.pid, signal.SIGTERM)  # its main process only: systemd's KillMode=mixed
    assert stopped.wait(60) == 0  # a warm shutdown, well within TimeoutStopSec
    took = time.monotonic() - stop_sent
    with tenant_context(alpha):
        # The send in flight was finished and recorded by the stopping worker.
        assert Notification.objects.filter(
            id__in=ids, state=NotificationState.DELIVERED
        ).count() >= 1
        assert not Notification.objects.filter(state=NotificationState.SENDING).exists()
    sent_before_restart = len(keys)

    celery_worker_processes(queue=queue, env=env)  # another worker takes what was handed back

    def all_delivered() -> bool:
        with tenant_context(alpha):
            return Notification.objects.filter(
                id__in=ids, state=NotificationState.DELIVERED
            ).count() == len(ids)

    wait_for(all_delivered, timeout=90)
    time.sleep(3)  # more than a lease (2 s here) and a sweep: nothing is sent again
    print(f"stop took {took:.1f}s; sent by the stopped worker: {sent_before_restart}")
    assert sorted(keys) == sorted(f"alpha-{notification_id}" for notification_id in ids)
    with tenant_context(alpha):
        assert set(Notification.objects.filter(id__in=ids).values_list("attempts", flat=True)) == {
            1
        }
