"""Delivery benchmark: notifications/s of one Celery worker process to local receivers.

Fills the outbox of a benchmark tenant with N notifications (one alert group
each, as distinct incidents), starts ONE `celery worker --pool threads`
process, lets it deliver a warm-up batch, then queues the N and times the
worker until every one is delivered. Queued "together" (a backlog, or one
incident for many receivers), the outbox hands them over in batches; queued
"one task each", they arrive as single-alert ingests send them.

Two local receivers (a threaded HTTP server in this process): one answers at
once, one after 200 ms, so the second shows whether the worker's
concurrency model keeps it busy while sends wait. Prints notifications/s
(wall clock, first send to last delivery) and notifications per CPU-second
of the worker process after its warm-up (≈ per worker core).

Usage: make bench-delivery [BENCH_ARGS="--count 2000 --threads 8 --slow-threads 32"]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUEUE = f"bench-delivery-{uuid.uuid4().hex[:8]}"
WARMUP = 50
# Before Django reads its settings: the tasks go to a queue of their own.
os.environ["HERALD_CELERY_QUEUE"] = QUEUE

from common import bench_environment, bench_tenant, results_write, spawn, stop  # noqa: E402


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as vendors' APIs do
    # Headers and body go out in separate writes: with Nagle's algorithm the
    # body would wait for the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    delay = {"/instant": 0.0, "/slow": 0.2}
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
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


def outbox_fill(tenant, *, count: int, url: str) -> list[int]:
    """`count` pending notifications to the benchmark receiver, one group each."""
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
                next_attempt_at=now,
            )
            for group, alert in zip(groups, alerts, strict=True)
        )
        return [row.id for row in rows]


def _wait_delivered(tenant, ids: list[int], *, name: str, worker) -> None:
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


def run_scenario(
    environment, tenant, *, name: str, url: str, count: int, threads: int, one_by_one: bool
) -> dict:
    """Time one worker process delivering `count` notifications, after a warm-up.

    `one_by_one` enqueues a task per notification, as single-alert ingests
    do; otherwise they are enqueued together (a backlog, or one incident for
    many receivers) and the outbox hands them over in batches.
    """
    import psutil
    from django.db.models import Max, Min
    from django_tenants.utils import tenant_context

    from receivers.models import DeliveryAttempt, Notification
    from receivers.services import notifications_enqueue

    warmup = outbox_fill(tenant, count=WARMUP, url=url)
    ids = outbox_fill(tenant, count=count, url=url)
    env = {
        **environment.env,
        "HERALD_CELERY_QUEUE": QUEUE,
        "HERALD_TENANT_DELIVERY_RATE_LIMIT": "1000000/second",
        "HERALD_LOG_LEVEL": "WARNING",
    }
    worker = spawn(
        [sys.executable, "-m", "celery", "-A", "alerting", "worker", "--pool", "threads",
         "--concurrency", str(threads), "-Q", QUEUE, "--without-mingle", "--without-gossip",
         "--loglevel", "WARNING", "--prefetch-multiplier", "4",
         "--hostname", f"{QUEUE}-{name}@%h"],
        env,
    )
    process = psutil.Process(worker.pid)
    try:
        # Start-up (Django, Celery, first connections) is not delivery: the
        # CPU time is counted from after a warm-up batch.
        with tenant_context(tenant):
            notifications_enqueue(notification_ids=warmup)
        _wait_delivered(tenant, warmup, name=name, worker=worker)
        before = process.cpu_times()
        with tenant_context(tenant):
            if one_by_one:
                for notification_id in ids:
                    notifications_enqueue(notification_ids=[notification_id])
            else:
                notifications_enqueue(notification_ids=ids)
        _wait_delivered(tenant, ids, name=name, worker=worker)
        after = process.cpu_times()
        cpu_seconds = (after.user + after.system) - (before.user + before.system)
    finally:
        stop([worker])
    with tenant_context(tenant):
        first = DeliveryAttempt.objects.filter(notification_id__in=ids).aggregate(
            Min("started_at")
        )["started_at__min"]
        last = Notification.objects.filter(id__in=ids).aggregate(Max("delivered_at"))[
            "delivered_at__max"
        ]
    wall = (last - first).total_seconds()
    return {
        "scenario": name,
        "enqueued": "one task each" if one_by_one else "together",
        "notifications": count,
        "threads": threads,
        "seconds": round(wall, 2),
        "per_second": round(count / wall, 1),
        "worker_cpu_seconds": round(cpu_seconds, 2),
        "per_cpu_second": round(count / cpu_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="notifications, instant receiver")
    parser.add_argument("--slow-count", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8, help="worker threads, instant receiver")
    parser.add_argument("--slow-threads", type=int, default=32)
    args = parser.parse_args()

    environment = bench_environment()
    from alerting.celery import app

    # This process publishes the tasks: to the broker the worker listens to.
    app.conf.broker_url = environment.env["CELERY_BROKER_URL"]
    server = Server(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        tenant, _ = bench_tenant(slug="benchdelivery", receiver_url=f"{base}/instant")
        scenarios = [
            ("instant", "instant", args.count, args.threads, False),
            ("instant", "instant", args.count, args.threads, True),
            ("slow-200ms", "slow", args.slow_count, args.threads, False),
            ("slow-200ms", "slow", args.slow_count, args.slow_threads, False),
            ("slow-200ms", "slow", args.slow_count, args.slow_threads, True),
        ]
        results = [
            run_scenario(environment, tenant, name=name, url=f"{base}/{path}", count=count,
                         threads=threads, one_by_one=one_by_one)
            for name, path, count, threads, one_by_one in scenarios
        ]
    finally:
        server.shutdown()
        environment.close()
    lines = [
        "| receiver | enqueued | notifications | worker threads | wall s | notifications/s "
        "| worker CPU s | notifications per CPU-second |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['enqueued']} | {r['notifications']} | {r['threads']} "
            f"| {r['seconds']} "
            f"| {r['per_second']} | {r['worker_cpu_seconds']} | {r['per_cpu_second']} |"
        )
    results_write("delivery", {"results": results, "requests_received": Receiver.received},
                  "\n".join(lines))


if __name__ == "__main__":
    main()
