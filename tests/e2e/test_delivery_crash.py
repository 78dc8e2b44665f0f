"""Crashes for real: a `celery worker` process killed with SIGKILL mid-send, and the
broker stopped while a delivery is in flight. Nothing accepted is lost.

The workers here are subprocesses (threads pool, with embedded beat for the
sweep) against the test database and the suite's broker, on a queue of their
own so the suite's in-process worker does not take their tasks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context
from werkzeug import Response

from receivers.models import Notification, NotificationState
from receivers.tasks import deliver_notification
from tests.conftest import broker, wait_for
from tests.factories import NotificationFactory, ReceiverFactory

pytestmark = pytest.mark.e2e


def _popen(command: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture
def worker_process(tmp_path) -> Iterator:
    """Start `celery worker -B` subprocesses on a private queue; all are stopped at the end."""
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    started: list[subprocess.Popen] = []
    db = connection.settings_dict

    def start() -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}",
            "CELERY_BROKER_URL": broker.url,
            "HERALD_CELERY_QUEUE": queue,
            "HERALD_VAR_DIR": str(settings.VAR_DIR),
            # A killed worker's lease runs out soon, and the beat's sweep
            # (every second) takes up at once whatever is overdue.
            "HERALD_DELIVERY_LEASE_SECONDS": "2",
            "HERALD_SWEEP_INTERVAL_SECONDS": "1",
            "HERALD_SWEEP_PENDING_AFTER_SECONDS": "0",
        }
        with (tmp_path / f"worker-{len(started)}.log").open("w") as log:
            process = _popen(
                [
                    sys.executable, "-m", "celery", "-A", "alerting", "worker",
                    "--pool", "threads", "--concurrency", "4", "-Q", queue,
                    "--beat", "--schedule", str(tmp_path / f"beat-{len(started)}"),
                    "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
                    "--hostname", f"{queue}-{len(started)}@%h",
                ],
                env,
                log,
            )
        started.append(process)
        return process

    start.queue = queue
    yield start
    for process in started:  # each in its own group, with its beat child
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
