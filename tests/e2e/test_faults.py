"""The fault suite: while alerts flow in over HTTP, break something, and count.

Each test posts a stream of alerts the way Alertmanager does (retrying any
non-2xx), breaks one thing mid-stream — the broker, a worker (SIGKILL),
PostgreSQL, the receiver — and then counts, per alert, what the stand-in
receiver got: nothing may be lost; duplicates are counted and bounded. The
counts are printed and written to test-artifacts/faults.json.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection, connections
from django_tenants.utils import tenant_context
from werkzeug import Response

from alerting.infra.embedded import postgres_restart
from tests.conftest import broker, wait_for
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ALERTS = 24
ARTIFACT = Path(settings.BASE_DIR) / "test-artifacts" / "faults.json"


class Flow:
    """Posts ALERTS single-alert groups, one every 50 ms, retrying like Alertmanager."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.posted: list[str] = []
        self.answers: Counter[int] = Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        for _ in range(ALERTS):
            alert = WebhookAlertFactory()
            payload = WebhookPayloadFactory(alerts=[alert])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    answer = session.post(
                        self.url, json=payload, timeout=10,
                        headers={"Authorization": f"Bearer {self.key}"},
                    ).status_code
                except requests.RequestException:
                    answer = 0
                self.answers[answer] += 1
                if answer == 200:
                    self.posted.append(alert["fingerprint"])
                    break
                time.sleep(0.2)
            time.sleep(0.05)

    def start(self) -> Flow:
        self.thread.start()
        return self

    def join(self) -> None:
        self.thread.join(120)


class StandIn:
    """Counts, per alert fingerprint, the notifications that reached it."""

    def __init__(self, httpserver, flapping: bool = False) -> None:
        self.received: Counter[str] = Counter()
        self.calls = 0
        self.flapping = flapping
        self.lock = threading.Lock()
        httpserver.expect_request("/hook").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/hook")

    def handle(self, request):
        with self.lock:
            self.calls += 1
            if self.flapping and self.calls % 2:
                return Response("flap", status=500)  # every other call fails
            for alert in request.get_json()["alerts"]:
                self.received[alert["fingerprint"]] += 1
        return Response("ok")


def settle_and_count(name: str, flow: Flow, stand_in: StandIn) -> dict:
    flow.join()
    wait_for(lambda: set(flow.posted) <= set(stand_in.received), timeout=90)
    counts = {
        "fault": name,
        "posted": len(flow.posted),
        "delivered": sum(1 for fp in flow.posted if stand_in.received[fp]),
        "lost": sum(1 for fp in flow.posted if not stand_in.received[fp]),
        "duplicates": sum(stand_in.received[fp] - 1 for fp in flow.posted),
        "answers": {str(code): n for code, n in sorted(flow.answers.items())},
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    existing = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    ARTIFACT.write_text(json.dumps({**existing, name: counts}, indent=2))
    print(f"\nfault suite, {name}: {counts}")
    return counts


# Every other send fails, so an unlucky alert is retried four or five times:
# at the default backoff (2 s * 2^n, full jitter) its last wait alone can be
# half a minute. Here retries wait up to 0.25 s * 2^n; what is counted (nothing
# lost, duplicates bounded) does not depend on how long they wait. Should the
# flapping ever make the breaker open (five failures in a row, say when sends
# side by side are recorded out of order), its probe comes after 2 s instead of
# the default minute.
FLAPPING_WORKER_ENV = {"HERALD_BREAKER_COOLDOWN_SECONDS": "2",
                       "HERALD_DELIVERY_BACKOFF_BASE_SECONDS": "0.25"}


@pytest.fixture
def setup(committed_tenants, httpserver, ingest_key, live_server, celery_worker_processes):
    def make(flapping: bool = False):
        alpha = committed_tenants["alpha"]
        stand_in = StandIn(httpserver, flapping=flapping)
        with tenant_context(alpha):
            ReceiverFactory(secrets={"url": stand_in.url}, max_attempts=10)
        worker = celery_worker_processes(env=FLAPPING_WORKER_ENV if flapping else None)
        return Flow(live_server.url + INGEST, ingest_key(alpha)), stand_in, worker

    return make


def assert_nothing_lost(counts: dict) -> None:
    assert counts["posted"] == ALERTS
    assert counts["lost"] == 0
    assert counts["duplicates"] <= counts["posted"]  # at most one extra send per alert


def test_broker_stopped_and_restarted_while_alerts_flow(setup):
    flow, stand_in, _ = setup()
    flow.start()
    time.sleep(0.4)
    broker.stop()
    time.sleep(1.5)
    broker.start()
    assert_nothing_lost(settle_and_count("broker restart", flow, stand_in))


def test_a_worker_killed_while_alerts_flow(setup, celery_worker_processes):
    flow, stand_in, worker = setup()
    flow.start()
    time.sleep(0.5)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its beat, whatever they did
    worker.wait()
    celery_worker_processes()  # its replacement
    assert_nothing_lost(settle_and_count("worker SIGKILL", flow, stand_in))


def _restart_postgresql() -> None:
    """A real restart of the embedded server; with DATABASE_URL, every
    connection of the test database is dropped, as a restart would."""
    if not os.environ.get("DATABASE_URL"):
        postgres_restart(Path(settings.VAR_DIR))
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_postgresql_restarted_while_alerts_flow(setup):
    flow, stand_in, _ = setup()
    flow.start()
    time.sleep(0.5)
    _restart_postgresql()
    connections.close_all()
    counts = settle_and_count("PostgreSQL restart", flow, stand_in)
    assert_nothing_lost(counts)
    assert "500" not in counts["answers"]  # a 503 to retry, never a 500


def test_a_flapping_receiver_while_alerts_flow(setup):
    flow, stand_in, _ = setup(flapping=True)
    flow.start()
    assert_nothing_lost(settle_and_count("receiver flapping 500/200", flow, stand_in))
