"""Fairness rows of the delivery benchmark: tenant B's latency beside tenant A's slow backlog.

Two tenants on one worker, tenant A's receiver answering after 2 s, tenant
B's at once. B's latency (enqueue to arrival at its receiver) is measured
alone and then while A has a backlog in flight, in the same worker, with the
per-tenant cap at its default and with it turned off.
"""

from __future__ import annotations

import sys
import threading
import time

from common import spawn, stop
from delivery_setup import QUEUE, Receiver, outbox_fill, wait_delivered


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
        wait_delivered(quick_tenant, warmup, name="fairness warm-up", worker=worker)
        wait_delivered(slow_tenant, slow_warmup, name="fairness warm-up", worker=worker)
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
