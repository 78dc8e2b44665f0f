"""Real `celery worker -B` processes for the tests that kill, stop or restart things."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from receivers.delivery.relay import delivery_relay_start, delivery_relay_stop
from tests.conftest import broker


@pytest.fixture
def celery_worker_processes(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start worker subprocesses (threads pool, embedded beat) on the test database and
    broker, each in its own process group; all are stopped, beat children too, at the end.

    A killed worker's lease runs out in 2 s, and the beat's sweep (every second)
    takes up at once whatever is overdue.
    """
    started: list[subprocess.Popen] = []
    db = connection.settings_dict
    # The workers under test hear the deliveries' wakes, not this process's relay.
    relay_was_running = delivery_relay_stop()

    def start(queue: str = "celery", env: dict[str, str] | None = None) -> subprocess.Popen:
        environment = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}",
            "CELERY_BROKER_URL": broker.url,
            "HERALD_CELERY_QUEUE": queue,
            "HERALD_VAR_DIR": str(settings.VAR_DIR),
            "HERALD_DELIVERY_LEASE_SECONDS": "2",
            "HERALD_SWEEP_INTERVAL_SECONDS": "1",
            "HERALD_SWEEP_PENDING_AFTER_SECONDS": "0",
            **(env or {}),  # the test's own settings
        }
        number = len(started)
        with (tmp_path / f"worker-{number}.log").open("w") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "worker",
                 "--pool", "threads", "--concurrency", "4", "-Q", queue,
                 "--beat", "--schedule", str(tmp_path / f"beat-{number}"),
                 "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
                 "--hostname", f"{queue}-{number}-{uuid.uuid4().hex[:6]}@%h"],
                cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if relay_was_running:
        delivery_relay_start().leading.wait(10)
