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

Fairness (issue 14): two tenants on one worker, tenant A's receiver answering
after 2 s, tenant B's at once. B's latency (enqueue to arrival at its
receiver) is measured alone and then while A has a backlog in flight, in the
same worker, with the per-tenant cap at its default and with it turned off.

Usage: make bench-delivery [BENCH_ARGS="--count 2000 --threads 8 --slow-threads 32"]
       make bench-delivery BENCH_ARGS="--only fairness"
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from datetime import timedelta
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

    from receivers.delivery import notifications_enqueue
    from receivers.models import DeliveryAttempt, Notification

    warmup = outbox_fill(tenant, count=WARMUP, url=url)
    ids = outbox_fill(tenant, count=count, url=url)
    env = {
        **environment.env,
        "HERALD_CELERY_QUEUE": QUEUE,
        "HERALD_TENANT_DELIVERY_RATE_LIMIT": "1000000/second",
        "HERALD_LOG_LEVEL": "WARNING",
    }
    worker = spawn(
        [sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "worker",
         "--pool", "threads",
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


def _latencies(tenant, enqueued: dict[int, float], *, timeout: float = 60) -> list[float]:
    """Seconds from each enqueue to its arrival at the receiver, once all have arrived."""
    deadline = time.monotonic() + timeout
    keys = {notification_id: f"{tenant.slug}-{notification_id}" for notification_id in enqueued}
    while any(key not in Receiver.arrived for key in keys.values()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{tenant.slug}: not every notification arrived")
        time.sleep(0.05)
    return [Receiver.arrived[keys[i]] - at for i, at in enqueued.items()]


def _paced(tenant, ids: list[int], *, per_second: float) -> dict[int, float]:
    """Enqueue one task each at a steady pace, as single-alert ingests do; enqueue times."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from receivers.delivery import notifications_enqueue
    from receivers.models import Notification

    enqueued = {}
    start = time.monotonic()
    with tenant_context(tenant):
        for n, notification_id in enumerate(ids):
            time.sleep(max(0.0, start + n / per_second - time.monotonic()))
            enqueued[notification_id] = time.time()
            Notification.objects.filter(id=notification_id).update(next_attempt_at=timezone.now())
            notifications_enqueue(notification_ids=[notification_id])
    return enqueued


def run_fairness(
    environment, slow_tenant, quick_tenant, *, base: str, cap: int | None, threads: int,
    samples: int, backlog: int,
) -> dict:
    """B's latency alone, then with A's backlog to a 2 s receiver in flight: one worker."""
    from common import percentile
    from django_tenants.utils import tenant_context

    from alerting.infra.celery import app
    from receivers.delivery import notifications_enqueue

    label = "default" if cap is None else str(cap)
    # A queue per worker: A's backlog left when the worker stops goes nowhere.
    queue = f"{QUEUE}-fair-{label}"
    app.conf.task_default_queue = queue
    quick_url, slow_url = f"{base}/instant", f"{base}/slow-2s"
    warmup = outbox_fill(quick_tenant, count=20, url=quick_url)
    slow_warmup = outbox_fill(slow_tenant, count=1, url=slow_url)
    alone = outbox_fill(quick_tenant, count=samples, url=quick_url, due=False)
    beside = outbox_fill(quick_tenant, count=samples, url=quick_url, due=False)
    slow = outbox_fill(slow_tenant, count=backlog, url=slow_url, due=False)
    env = {**environment.env, "HERALD_CELERY_QUEUE": queue, "HERALD_LOG_LEVEL": "ERROR"}
    if cap is not None:
        env["HERALD_TENANT_MAX_CONCURRENT_SENDS"] = str(cap)
    worker = spawn(
        [sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "worker",
         "--pool", "threads",
         "--concurrency", str(threads), "-Q", queue, "--without-mingle", "--without-gossip",
         "--loglevel", "ERROR", "--hostname", f"{queue}@%h"],
        env,
    )
    try:
        with tenant_context(quick_tenant):
            notifications_enqueue(notification_ids=warmup)
        with tenant_context(slow_tenant):
            notifications_enqueue(notification_ids=slow_warmup)
        _wait_delivered(quick_tenant, warmup, name="fairness warm-up", worker=worker)
        _wait_delivered(slow_tenant, slow_warmup, name="fairness warm-up", worker=worker)
        per_second = 10.0
        latency_alone = _latencies(quick_tenant, _paced(quick_tenant, alone, per_second=per_second))
        # A's backlog arrives as single-alert ingests would send it: one task
        # each, written as it is enqueued (so no task takes the others along).
        pacing = threading.Thread(
            target=_paced, args=(slow_tenant, slow), kwargs={"per_second": 40.0}
        )
        pacing.start()
        time.sleep(0.5)  # A's sends are in flight
        enqueued = _paced(quick_tenant, beside, per_second=per_second)
        latency_beside = _latencies(quick_tenant, enqueued)
        slow_arrived = sum(f"{slow_tenant.slug}-{i}" in Receiver.arrived for i in slow)
        pacing.join()
    finally:
        stop([worker])
    p95_alone, p95_beside = percentile(latency_alone, 95), percentile(latency_beside, 95)
    return {
        "cap": "default (HERALD_TENANT_MAX_CONCURRENT_SENDS=4)" if cap is None
        else ("off (0)" if cap == 0 else str(cap)),
        "threads": threads,
        "samples": samples,
        "a_backlog": backlog,
        "a_sent_meanwhile": slow_arrived,
        "b_p50_alone_ms": round(percentile(latency_alone, 50) * 1000, 1),
        "b_p95_alone_ms": round(p95_alone * 1000, 1),
        "b_p50_beside_ms": round(percentile(latency_beside, 50) * 1000, 1),
        "b_p95_beside_ms": round(p95_beside * 1000, 1),
        "p95_ratio": round(p95_beside / p95_alone, 2),
    }


def fairness_table(results: list[dict]) -> list[str]:
    lines = [
        "",
        "Fairness: tenant B (instant receiver) beside tenant A (2 s receiver, a backlog of "
        "one task each in flight), one worker process; B's latency is enqueue to arrival.",
        "",
        "| per-tenant cap | worker threads | B p50 alone ms | B p95 alone ms "
        "| B p50 beside A ms | B p95 beside A ms | p95 ratio | A backlog | A sent meanwhile |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['cap']} | {r['threads']} | {r['b_p50_alone_ms']} | {r['b_p95_alone_ms']} "
            f"| {r['b_p50_beside_ms']} | {r['b_p95_beside_ms']} | {r['p95_ratio']} "
            f"| {r['a_backlog']} | {r['a_sent_meanwhile']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="notifications, instant receiver")
    parser.add_argument("--slow-count", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8, help="worker threads, instant receiver")
    parser.add_argument("--slow-threads", type=int, default=32)
    parser.add_argument("--only", choices=["throughput", "fairness"],
                        help="run one part (default: both)")
    parser.add_argument("--fair-samples", type=int, default=50,
                        help="tenant B's notifications per phase (10 a second)")
    parser.add_argument("--fair-backlog", type=int, default=64,
                        help="tenant A's notifications to its 2 s receiver")
    args = parser.parse_args()

    environment = bench_environment()
    from alerting.infra.celery import app

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
            if args.only != "fairness"
        ]
        fairness = []
        if args.only != "throughput":
            slow_tenant, _ = bench_tenant(slug="benchfairslow", receiver_url=f"{base}/slow-2s")
            quick_tenant, _ = bench_tenant(slug="benchfairquick", receiver_url=f"{base}/instant")
            fairness = [
                run_fairness(environment, slow_tenant, quick_tenant, base=base, cap=cap,
                             threads=args.threads, samples=args.fair_samples,
                             backlog=args.fair_backlog)
                for cap in (None, 0)
            ]
    finally:
        server.shutdown()
        environment.close()
    lines = [
        "| receiver | enqueued | notifications | worker threads | wall s | notifications/s "
        "| worker CPU s | notifications per CPU-second |",
        "|---|---|---|---|---|---|---|---|",
    ] if results else []
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['enqueued']} | {r['notifications']} | {r['threads']} "
            f"| {r['seconds']} "
            f"| {r['per_second']} | {r['worker_cpu_seconds']} | {r['per_cpu_second']} |"
        )
    if fairness:
        lines += fairness_table(fairness)
    results_write(
        "delivery" if args.only is None else f"delivery-{args.only}",
        {"results": results, "fairness": fairness, "requests_received": Receiver.received},
        "\n".join(lines),
    )


if __name__ == "__main__":
    main()
