"""What the delivery benchmarks share: the stand-in receiver, filling an outbox, waiting for it.

Imported before Django reads its settings: the benchmark's tasks go to a
queue of their own.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUEUE = f"bench-delivery-{uuid.uuid4().hex[:8]}"
os.environ["HERALD_CELERY_QUEUE"] = QUEUE


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as vendors' APIs do
    # Headers and body go out in separate writes: with Nagle's algorithm the
    # body would wait for the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    delay = {"/instant": 0.0, "/slow": 0.2, "/slow-2s": 2.0}
    received = 0
    # Idempotency-Key ("<tenant>-<notification id>") -> first arrival, time.time().
    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.arrived.setdefault(self.headers.get("Idempotency-Key", ""), time.time())
        time.sleep(self.delay.get(self.path, 0.0))
        with Receiver.lock:
            Receiver.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    # A vendor's backlog, not socketserver's 5: a burst of new connections
    # would otherwise wait out SYN retransmits (1 s, 3 s) and time the stand-in.
    request_queue_size = 1024
    daemon_threads = True


def outbox_fill(tenant, *, count: int, url: str, due: bool = True) -> list[int]:
    """`count` pending notifications to the benchmark receiver, one group each.

    Not `due`: held for a day, until `_paced` makes each due as it enqueues it
    (as an ingest writes it), so no earlier task takes it along.
    """
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from alerting.models import AlertGroup
    from receivers.models import Notification
    from receivers.models import Receiver as ReceiverModel
    from receivers.services import receiver_secret_set

    now = timezone.now()
    run = uuid.uuid4().hex[:8]
    with tenant_context(tenant):
        receiver = ReceiverModel.objects.get(name="bench")
        receiver_secret_set(receiver=receiver, name="url", value=url)
        ReceiverModel.objects.filter(id=receiver.id).update(rate_limit="1000000/second")
        groups = AlertGroup.objects.bulk_create(
            AlertGroup(
                group_key=f'{{}}:{{alertname="BenchDelivery",run="{run}",n="{n}"}}',
                receiver="herald",
                status="firing",
                group_labels={"alertname": "BenchDelivery"},
                common_labels={"alertname": "BenchDelivery", "severity": "critical"},
                first_seen_at=now,
                last_seen_at=now,
                last_payload={},
            )
            for n in range(count)
        )
        alerts = [
            {
                "status": "firing",
                "labels": {"alertname": "BenchDelivery", "instance": f"web-{n}:9100"},
                "annotations": {"summary": "benchmark"},
                "startsAt": "2026-11-23T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/",
                "fingerprint": f"{run}{n:08x}",
            }
            for n in range(count)
        ]
        rows = Notification.objects.bulk_create(
            Notification(
                receiver=receiver,
                receiver_name=receiver.name,
                channel=receiver.kind,
                alert_group=group,
                status="firing",
                alerts=[alert],
                created_at=now,
                next_attempt_at=now if due else now + timedelta(days=1),
            )
            for group, alert in zip(groups, alerts, strict=True)
        )
        return [row.id for row in rows]


def wait_delivered(tenant, ids: list[int], *, name: str, worker) -> None:
    from django_tenants.utils import tenant_context

    from receivers.models import Notification

    deadline = time.monotonic() + 600
    while True:
        with tenant_context(tenant):
            left = Notification.objects.filter(id__in=ids).exclude(state="delivered").count()
            failed = Notification.objects.filter(id__in=ids, state="failed").count()
        if left == 0:
            return
        if failed:
            raise RuntimeError(f"{name}: {failed} notifications failed")
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name}: {left} notifications not delivered")
        time.sleep(0.05)
