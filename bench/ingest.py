"""Ingest benchmark: Herald under gunicorn vs a bare PostgreSQL upsert, same run.

Starts Herald (gunicorn) on the embedded PostgreSQL (or DATABASE_URL) and an
embedded Redis (or CELERY_BROKER_URL), posts realistic Alertmanager v4
payloads from separate client processes over keep-alive connections, and
prints alerts/s and p50/p95/p99 latency per batch size, and for 100 alerts
re-posted unchanged (Alertmanager's steady state). The ceiling is a bare
psycopg `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE` of the same
rows, one commit per batch, with the same number of connections (and, for
reference, from one connection). The framework floor is bench/floor.py's bare
DRF view under the same gunicorn, posted the same payloads: what the stack
answers before Herald does any work. Herald, the ceiling and the floor run in
rotating rounds, and each ratio is the median of the rounds' ratios.
Usage: make bench-ingest [BENCH_ARGS=...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import sys
import time
import uuid

from common import (
    bench_environment,
    bench_tenant,
    percentile,
    results_write,
    spawn,
    stop,
    wait_for_port,
)


def alert(fingerprint: str, n: int) -> dict:
    return {
        "status": "firing",
        "labels": {
            "alertname": "HighRequestLatency",
            "severity": "critical",
            "service": "checkout",
            "namespace": "prod",
            "pod": f"checkout-7d9f8-{n:05d}",
            "instance": f"10.1.{n % 250}.7:9100",
            "job": "kubernetes-pods",
            "cluster": "eu-west-1",
        },
        "annotations": {
            "summary": "p99 latency above 2s",
            "description": f"Pod checkout-7d9f8-{n:05d} answers slower than 2s for 10m.",
            "runbook_url": "https://runbooks.example/checkout/latency",
        },
        "startsAt": "2026-11-23T10:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=histogram_quantile",
        "fingerprint": fingerprint,
    }


def payload(batch: int, prefix: str, counter: int) -> bytes:
    alerts = [alert(f"{prefix}{counter:08x}{i:04x}", i) for i in range(batch)]
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="HighRequestLatency",run="{prefix}{counter}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "herald",
            "groupLabels": {"alertname": "HighRequestLatency"},
            "commonLabels": {"alertname": "HighRequestLatency", "severity": "critical"},
            "commonAnnotations": {"summary": "p99 latency above 2s"},
            "externalURL": "http://alertmanager:9093",
            "alerts": alerts,
        }
    ).encode()


def client(args: tuple) -> list[float]:
    """One keep-alive connection posting for `seconds`; returns latencies (s)."""
    port, path, key, batch, seconds, worker, repeat = args
    prefix = f"{uuid.uuid4().hex[:8]}{worker:02x}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies, counter = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = payload(batch, prefix, counter)
        counter += not repeat
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
    return latencies


def ceiling_client(args: tuple) -> int:
    """Bare upsert of the same rows, one commit per batch; returns rows written."""
    dsn, batch, seconds, worker, repeat = args
    import psycopg

    prefix = f"{uuid.uuid4().hex[:8]}{worker:02x}"
    rows, counter = 0, 0
    with psycopg.connect(dsn) as conn:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            alerts = [alert(f"{prefix}{counter:08x}{i:04x}", i) for i in range(batch)]
            counter += not repeat
            with conn.transaction():
                conn.execute(
                    """INSERT INTO bench_ceiling.alert AS a
                       (fingerprint, status, labels, annotations, starts_at, generator_url)
                       SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[], %s::jsonb[],
                                            %s::timestamptz[], %s::text[])
                       ON CONFLICT (fingerprint) DO UPDATE SET status = EXCLUDED.status,
                         labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
                         starts_at = EXCLUDED.starts_at, generator_url = EXCLUDED.generator_url""",
                    (
                        [a["fingerprint"] for a in alerts],
                        [a["status"] for a in alerts],
                        [json.dumps(a["labels"]) for a in alerts],
                        [json.dumps(a["annotations"]) for a in alerts],
                        [a["startsAt"] for a in alerts],
                        [a["generatorURL"] for a in alerts],
                    ),
                )
            rows += batch
    return rows


HERALD_PATH, FLOOR_PATH = "/api/v1/alertmanager/", "/ingest"


def measure(pool, args, key: str, dsn: str, batch: int, repeat: bool) -> dict:
    """Herald, the bare upsert and the floor in alternating slices, so drift hits all alike.

    The machine's speed drifts by tens of percent over a minute; comparing one
    long Herald phase with one long ceiling phase measured the drift as much
    as Herald. Each round runs each side for `seconds / rounds`, in rotating
    order; the ratios quoted are the medians of the rounds' ratios.
    """
    slice_seconds = args.seconds / args.rounds
    connections = range(args.connections)

    def posted(port: int, path: str) -> list[float]:
        """Every client's latencies for one slice against the server on `port`."""
        jobs = [(port, path, key, batch, slice_seconds, w, repeat) for w in connections]
        return [lat for run in pool.map(client, jobs) for lat in run]

    latencies, ceiling_rows, floor_requests, ratios, floor_ratios = [], 0, 0, [], []
    for round_ in range(args.rounds):
        steps = ["herald", "ceiling", "floor"]
        steps = steps[round_ % 3 :] + steps[: round_ % 3]
        for step in steps:
            if step == "herald":
                round_latencies = posted(args.port, HERALD_PATH)
            elif step == "floor":
                round_floor = len(posted(args.floor_port, FLOOR_PATH))
            else:
                round_rows = sum(
                    pool.map(
                        ceiling_client,
                        [(dsn, batch, slice_seconds, w, repeat) for w in connections],
                    )
                )
        latencies += round_latencies
        ceiling_rows += round_rows
        floor_requests += round_floor
        ratios.append(len(round_latencies) * batch / round_rows)
        floor_ratios.append(len(round_latencies) / round_floor)
    single = ceiling_client((dsn, batch, args.seconds / 2, 99, repeat))
    single_rate = single / (args.seconds / 2)
    return {
        "batch": f"{batch} (repeated)" if repeat else str(batch),
        "requests": len(latencies),
        "alerts_per_s": len(latencies) * batch / args.seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "ceiling_rows_per_s": ceiling_rows / args.seconds,
        "ceiling_one_connection_rows_per_s": single_rate,
        "ratio": statistics.median(ratios),
        "round_ratios": ratios,
        "floor_requests_per_s": floor_requests / args.seconds,
        "floor_ratio": statistics.median(floor_ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batches",
        default="1,10,100,100r",
        help="alerts per post; 'r' re-posts the same alerts, as Alertmanager does every "
        "group_interval (nothing changes, nothing notifies)",
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=4, help="Herald/ceiling alternations")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--floor-port", type=int, default=8766)
    args = parser.parse_args()

    from django.db import connection

    environment = bench_environment()
    env, dsn = environment.env, environment.dsn
    _, key = bench_tenant(slug="bench", receiver_url="http://127.0.0.1:9/")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS bench_ceiling CASCADE; CREATE SCHEMA bench_ceiling")
        cursor.execute(
            """CREATE TABLE bench_ceiling.alert (id bigserial PRIMARY KEY,
               fingerprint varchar(64) UNIQUE, status varchar(16), labels jsonb,
               annotations jsonb, starts_at timestamptz, generator_url text)"""
        )
    connection.close()

    shape = ["--workers", str(args.web_workers), "--threads", str(args.threads)]
    gunicorn = spawn(
        [sys.executable, "-m", "gunicorn", "alerting.infra.wsgi:application",
         "--bind", f"127.0.0.1:{args.port}", *shape, "--log-level", "warning"],
        env,
    )
    floor = spawn(
        [sys.executable, "-m", "gunicorn", "--chdir", "bench", "floor:application",
         "--bind", f"127.0.0.1:{args.floor_port}", *shape, "--log-level", "warning"],
        env,
    )
    rows = []
    try:
        wait_for_port(args.port, "gunicorn")
        wait_for_port(args.floor_port, "the floor's gunicorn")
        with multiprocessing.Pool(args.connections) as pool:
            for port, path in ((args.port, HERALD_PATH), (args.floor_port, FLOOR_PATH)):
                warm = [(port, path, key, 1, 1.0, w, False) for w in range(args.connections)]
                pool.map(client, warm)
            for spec in args.batches.split(","):
                repeat = spec.endswith("r")
                rows.append(measure(pool, args, key, dsn, int(spec.rstrip("r")), repeat))
    finally:
        stop([gunicorn, floor])
        environment.close()

    header = (
        f"Ingest, {args.connections} connections, gunicorn {args.web_workers}x"
        f"{args.threads} threads, {args.seconds:.0f} s per batch size for each side, "
        f"in {args.rounds} rotating rounds; the floor is a bare DRF view under the same "
        "gunicorn"
    )
    lines = [
        header,
        "",
        "| batch | alerts/s | p50 ms | p95 ms | p99 ms | ceiling rows/s | ratio (median) | "
        "rounds' ratios | ceiling, 1 conn | floor req/s | Herald / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['batch']} | {r['alerts_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
        f"| {r['p99_ms']:.1f} | {r['ceiling_rows_per_s']:.0f} | {r['ratio']:.0%} "
        f"| {' '.join(f'{x:.0%}' for x in r['round_ratios'])} "
        f"| {r['ceiling_one_connection_rows_per_s']:.0f} "
        f"| {r['floor_requests_per_s']:.0f} | {r['floor_ratio']:.0%} |"
        for r in rows
    ]
    results_write("ingest", {"settings": vars(args), "rows": rows}, "\n".join(lines))


if __name__ == "__main__":
    main()
