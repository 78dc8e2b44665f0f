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
import sys
import threading

from common import bench_environment, bench_tenant, results_write, spawn, stop
from delivery_fairness import fairness_table, run_fairness
from delivery_setup import QUEUE, Receiver, Server, outbox_fill, wait_delivered

WARMUP = 50


def run_scenario(
    environment, tenant, *, name: str, url: str, count: int, threads: int, enqueued: str,
    audit: bool = True,
) -> dict:
    """Time one worker process delivering `count` notifications, after a warm-up.

    `enqueued`: "one wake each" NOTIFYs the worker's relay once per
    notification, as single-alert ingests do (HERALD_DELIVERY_WAKE=notify);
    "one task each" publishes a task per notification (=broker); "together"
    enqueues them at once (a backlog, or one incident for many receivers)
    and the outbox hands them over in batches.
    """
    import psutil
    from django.db.models import Max, Min
    from django_tenants.utils import tenant_context

    from receivers.delivery import notifications_enqueue, notifications_wake
    from receivers.models import DeliveryAttempt, Notification

    warmup = outbox_fill(tenant, count=WARMUP, url=url)
    ids = outbox_fill(tenant, count=count, url=url)
    env = {
        **environment.env,
        "HERALD_CELERY_QUEUE": QUEUE,
        "HERALD_TENANT_DELIVERY_RATE_LIMIT": "1000000/second",
        "HERALD_LOG_LEVEL": "WARNING",
        # Outcome auditing on or off, to measure what it costs (issue 16).
        "HERALD_AUDIT_OUTCOMES": "1" if audit else "0",
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
        wait_delivered(tenant, warmup, name=name, worker=worker)
        before = process.cpu_times()
        with tenant_context(tenant):
            if enqueued == "one wake each":
                for notification_id in ids:
                    notifications_wake(notification_ids=[notification_id])
            elif enqueued == "one task each":
                for notification_id in ids:
                    notifications_enqueue(notification_ids=[notification_id])
            else:
                notifications_enqueue(notification_ids=ids)
        wait_delivered(tenant, ids, name=name, worker=worker)
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
    seal_seconds = None
    if audit:
        # What the periodic audit task then does with the batches' outcomes,
        # off the delivery path: chain them, one entry per notification.
        import time

        from alerting.audit.outcomes import audit_outcomes_seal

        with tenant_context(tenant):
            started = time.perf_counter()
            audit_outcomes_seal()
            seal_seconds = round(time.perf_counter() - started, 2)
    return {
        "scenario": name,
        "audit": "on" if audit else "off",
        "seal_seconds": seal_seconds,
        "enqueued": enqueued,
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
    parser.add_argument("--only", choices=["throughput", "fairness"],
                        help="run one part (default: both)")
    parser.add_argument("--audit", choices=["both", "on", "off"], default="both",
                        help="throughput with outcome auditing off and on, side by side")
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
            ("instant", "instant", args.count, args.threads, "together"),
            ("instant", "instant", args.count, args.threads, "one task each"),
            ("instant", "instant", args.count, args.threads, "one wake each"),
            ("slow-200ms", "slow", args.slow_count, args.threads, "together"),
            ("slow-200ms", "slow", args.slow_count, args.slow_threads, "together"),
            ("slow-200ms", "slow", args.slow_count, args.slow_threads, "one task each"),
            ("slow-200ms", "slow", args.slow_count, args.slow_threads, "one wake each"),
        ]
        audits = {"both": (False, True), "on": (True,), "off": (False,)}[args.audit]
        results = [
            run_scenario(environment, tenant, name=name, url=f"{base}/{path}", count=count,
                         threads=threads, enqueued=enqueued, audit=audit)
            for name, path, count, threads, enqueued in scenarios
            for audit in audits
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
        "| receiver | enqueued | notifications | worker threads | outcome audit | wall s "
        "| notifications/s | worker CPU s | notifications per CPU-second | seal s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ] if results else []
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['enqueued']} | {r['notifications']} | {r['threads']} "
            f"| {r['audit']} | {r['seconds']} "
            f"| {r['per_second']} | {r['worker_cpu_seconds']} | {r['per_cpu_second']} "
            f"| {r['seal_seconds'] if r['seal_seconds'] is not None else '-'} |"
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
