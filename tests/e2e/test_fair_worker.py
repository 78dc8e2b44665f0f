"""A real threads worker keeps delivering one tenant while another's slow work is in flight.

Tenant alpha has a backlog (more notifications than the worker has threads)
to a receiver that answers after 2 s, and a receiver whose body template is
slow for real alerts (though quick on the sample its save was checked on).
Tenant beta's receiver answers at once. With alpha capped at fewer sends
than the worker has threads, beta's notifications arrive well within 2 s,
and alpha's are all delivered in the end, each exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from django_tenants.utils import tenant_context
from pytest_httpserver import HTTPServer
from werkzeug import Response

from receivers.models import Notification, NotificationState
from receivers.tasks import deliver_notification, deliver_notifications
from receivers.transports.webhook import IDEMPOTENCY_HEADER
from tests.conftest import wait_for, workers_answering
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert

pytestmark = pytest.mark.e2e

WORKER_THREADS = 4
ALPHA_CAP = 3  # one thread is always left to the other tenants
SLOW_ANSWER_SECONDS = 2.0
# Loops 10^9 times for an alert labelled storm="yes", once for the sample:
# it runs until the render's time limit stops it.
SLOW_FOR_REAL_ALERTS = (
    "{% set n = 1000 if alerts[0].labels.get('storm') else 1 %}"
    "{% for a in range(n) %}{% for b in range(n) %}{% for c in range(n) %}"
    "{% if c.real %}{% endif %}{% endfor %}{% endfor %}{% endfor %}ok"
)


@pytest.fixture
def threads_worker(committed_tenants, celery_worker_processes) -> str:
    """A real worker process with a threads pool, on a queue of its own; the queue.

    Its own queue, so the suite's solo worker (if this session started it)
    takes none of these tasks: a task waiting behind a 2 s send in that one
    thread would time the solo pool, not Herald. Leases outlast the slow
    receiver, so no sweep sends anything twice.
    """
    queue = f"fair-{uuid.uuid4().hex[:8]}"
    celery_worker_processes(queue=queue, env={
        "HERALD_TENANT_MAX_CONCURRENT_SENDS": str(ALPHA_CAP),
        "HERALD_DELIVERY_LEASE_SECONDS": "30",
        "HERALD_SWEEP_PENDING_AFTER_SECONDS": "60",
    })
    wait_for(lambda: any(
        name.startswith(queue) for name in workers_answering(timeout=0.5)
    ), timeout=30)
    return queue


@pytest.fixture
def receiver_server() -> Iterator[HTTPServer]:
    """Local stand-ins for the vendors, answering requests side by side."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


class StandIn:
    """A receiver that answers after `delay` seconds and remembers what arrived when."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.arrived: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        self.keys: Counter[str] = Counter()

    def __call__(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        with self.lock:
            self.keys[key] += 1
            self.arrived.setdefault(key, time.monotonic())
        time.sleep(self.delay)
        with self.lock:
            self.answered.setdefault(key, time.monotonic())
        return Response("ok")


def test_a_tenant_with_a_slow_receiver_and_template_does_not_hold_up_another_tenant(
    committed_tenants, threads_worker, receiver_server
):
    alpha, beta = committed_tenants["alpha"], committed_tenants["beta"]
    slow, templated, instant = StandIn(SLOW_ANSWER_SECONDS), StandIn(), StandIn()
    receiver_server.expect_request("/alpha/slow").respond_with_handler(slow)
    receiver_server.expect_request("/alpha/rendered").respond_with_handler(templated)
    receiver_server.expect_request("/beta").respond_with_handler(instant)

    with tenant_context(alpha):
        slow_receiver = ReceiverFactory(secrets={"url": receiver_server.url_for("/alpha/slow")})
        templated_receiver = ReceiverFactory(
            secrets={"url": receiver_server.url_for("/alpha/rendered")},
            config={"body_template": SLOW_FOR_REAL_ALERTS, "content_type": "text/plain"},
        )
        # One at a time, as single-alert ingests write them: each task finds
        # only its own notification due (a backlog written at once would be
        # taken along by the first task and sent side by side in one thread).
        backlog, stormy = [], []
        for n in range(WORKER_THREADS + 2):
            backlog.append(NotificationFactory(receiver=slow_receiver, alerts=[alert(n=n)]).id)
            # Both delivery paths: batches as ingest enqueues them, and single retries.
            if n < 3:
                deliver_notifications.apply_async(([backlog[-1]],), queue=threads_worker)
            else:
                deliver_notification.apply_async((backlog[-1],), queue=threads_worker)
            time.sleep(0.05)  # its task has started before the next is written
            if n == 1:
                for m in range(2):
                    stormy.append(NotificationFactory(
                        receiver=templated_receiver,
                        alerts=[alert(n=m, labels={"storm": "yes"})],
                    ).id)
                    deliver_notifications.apply_async(([stormy[-1]],), queue=threads_worker)
    wait_for(lambda: len(slow.arrived) >= 2, timeout=10)  # alpha's slow sends are in flight

    with tenant_context(beta):
        beta_receiver = ReceiverFactory(secrets={"url": receiver_server.url_for("/beta")})
        beta_ids = []
        enqueued_at = {}
        for n in range(5):
            notification = NotificationFactory(receiver=beta_receiver, alerts=[alert(n=n)])
            enqueued_at[f"{beta.slug}-{notification.id}"] = time.monotonic()
            deliver_notifications.apply_async(([notification.id],), queue=threads_worker)
            beta_ids.append(notification.id)
            time.sleep(0.1)
    wait_for(lambda: len(instant.arrived) == 5, timeout=10)

    latencies = sorted(instant.arrived[key] - enqueued_at[key] for key in enqueued_at)
    assert latencies[-1] < SLOW_ANSWER_SECONDS / 4, latencies
    assert len(slow.answered) < len(backlog)  # alpha's backlog was still in flight meanwhile

    def alpha_settled():
        with tenant_context(alpha):
            ids = backlog + stormy
            return not Notification.objects.filter(
                id__in=ids, state__in=[NotificationState.PENDING, NotificationState.SENDING]
            ).exists()

    wait_for(alpha_settled, timeout=30)
    with tenant_context(alpha):
        delivered = Notification.objects.filter(id__in=backlog, state=NotificationState.DELIVERED)
        assert sorted(n.id for n in delivered) == sorted(backlog)
        assert {n.attempts for n in delivered} == {1}  # waiting for a slot is no attempt
        assert {n.delivery_attempts.count() for n in delivered} == {1}
    assert slow.keys == Counter({f"{alpha.slug}-{i}": 1 for i in backlog})  # each exactly once
    assert all(count == 1 for count in templated.keys.values())  # never twice
    with tenant_context(beta):
        assert Notification.objects.filter(
            id__in=beta_ids, state=NotificationState.DELIVERED
        ).count() == 5
