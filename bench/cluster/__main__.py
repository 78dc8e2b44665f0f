"""Herald on several hosts, with faults: nothing lost, duplicates bounded.

Twelve hosts, each a network namespace on one bridge (10.77.0.0/24, no
address outside them): PostgreSQL, RabbitMQ, Redis, HAProxy, two web hosts,
two worker hosts, beat, Alertmanager, a receiver and a client. For each
broker, alerts flow into Alertmanager at a steady rate while a web host is
killed, a worker host is killed, another is unplugged and PostgreSQL is
restarted, each brought back in turn. Needs root. Usage:
make bench-cluster [BENCH_ARGS="--brokers Redis --rate 3 --short"]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.cluster.hosts import WORKER_CONCURRENCY
from bench.cluster.netns import stale_networks_remove
from bench.cluster.scenario import BrokerResult, Cluster, Plan, preflight
from bench.cluster.tally import count_line, fault_table

BROKERS = ("RabbitMQ", "Redis")

IDEMPOTENCY = (
    "Duplicates and their bound (Herald's idempotency keys, docs/cluster.md): ingest owes one "
    "notification per receiver per alert state (fingerprint, status, startsAt), so "
    "Alertmanager's and HAProxy's retries add none and each alert must arrive under ONE "
    "Idempotency-Key; a duplicate is a resend of that notification after a fault lost a send's "
    "outcome, with the same Idempotency-Key (<tenant>-<notification id>). Bound: per worker "
    "host a fault hits, 4 runners x 25 leased notifications; per key, 1 + such faults."
)


def _interrupted(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def cluster_run(
    *, brokers: tuple[str, ...] = BROKERS, plan: Plan | None = None
) -> list[BrokerResult]:
    """Start the cluster, run the scenario per broker, and tear everything down."""
    plan = plan or Plan()
    if problems := preflight():
        raise SystemExit("bench-cluster cannot run:\n  " + "\n  ".join(problems))
    stale_networks_remove()
    cluster = Cluster()
    # Ctrl-C too: a shell's background job starts with SIGINT ignored.
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, _interrupted) for sig in stops}
    try:
        cluster.start()
        return [cluster.run_broker(broker, plan) for broker in brokers]
    finally:
        print(f"stopping the cluster (logs and counts kept in {cluster.folder})", flush=True)
        cluster.close()
        for data in ("pgdata", "rabbitmq/mnesia", "redis", "var", "alertmanager/data"):
            shutil.rmtree(cluster.folder / data, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def report(results: list[BrokerResult], plan: Plan, seconds: float) -> str:
    lines = [
        f"Herald cluster proof: 2 web hosts behind HAProxy, 2 worker hosts (Celery threads x"
        f"{WORKER_CONCURRENCY}), beat, PostgreSQL, Alertmanager -> HAProxy, {plan.rate:g} alerts/s"
        f" into Alertmanager, each host a network namespace; {seconds:.0f} s in all",
        "",
    ]
    for result in results:
        lines += fault_table(result.broker, result.counts)
        lines += ["", count_line(result.broker, result.counts), ""]
    lines += [
        "| broker | alerts per burst | 1 worker host alerts/s | 2 worker hosts alerts/s |",
        "|---|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.broker} | {result.throughput_one[0]} | {result.throughput_one[1]:.1f} | "
            f"{result.throughput_two[1]:.1f} |"
        )
    lines += [
        "",
        "Throughput: every host shares this machine's 2 cores (with other work), so a second "
        "worker host adds no CPU; the point here is correctness, not speed.",
        "held = from the fault until the host was back (listening again, link up, PostgreSQL"
        " accepting); late = latency over 3 x the p95 before the first fault (at least 2 s);"
        " recovered after = from the fault until the last late alert arrived.",
        IDEMPOTENCY,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default=",".join(BROKERS), help="RabbitMQ,Redis")
    parser.add_argument("--rate", type=float, help="alerts per second (default 4, --short 3)")
    parser.add_argument("--short", action="store_true", help="shorter faults, smaller bursts")
    parser.add_argument("--out", help="write the JSON here (default: bench/results/cluster.json)")
    args = parser.parse_args()
    plan = Plan.short() if args.short else Plan()
    if args.rate:
        plan = Plan(**{**asdict(plan), "rate": args.rate})
    brokers = tuple(b.strip() for b in args.brokers.split(",") if b.strip())
    if unknown := set(brokers) - set(BROKERS):
        parser.error(f"unknown broker(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    try:
        results = cluster_run(brokers=brokers, plan=plan)
    except KeyboardInterrupt:
        print("interrupted: everything the run started is stopped and removed", file=sys.stderr)
        raise SystemExit(130) from None
    text = report(results, plan, time.monotonic() - started)
    data = {"plan": asdict(plan), "seconds": time.monotonic() - started,
            "results": [{**asdict(r), "within_bound": r.counts.within_bound} for r in results]}
    if args.out:
        Path(args.out).write_text(json.dumps(data, indent=2))
        print(text)
    else:
        from bench.common import results_write

        results_write("cluster", data, text)
    lost = sum(r.counts.lost for r in results)
    if lost or not all(r.counts.within_bound for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
