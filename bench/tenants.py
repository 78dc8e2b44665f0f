"""Many tenants, few busy: tenant creation, periodic ticks, ingest beside idle tenants, memory.

Against the PostgreSQL of DATABASE_URL (a database of its own, e.g.
`createdb -h 127.0.0.1 -U postgres bench_tenants`), it creates --tenants
tenants as the product does (bench/tenant_creation.py): --preparers processes
prepare the spare schemas in parallel (tenants/spare_schemas.py, each a copy of
the migrated template), then tenant_create renames one per tenant; a few are
cloned and migrated the old way for comparison. It makes --busy-share of them
(1 %) busy (a due entry of every kind in the due-work index, an ingested alert
whose notification is pending), and prints:

- the spares' preparation (in all, a spare) and creation time per tenant
  from a spare (median, p95), cloned (no spare free), migrated;
- each periodic task's duration (escalation tick, notification sweep, silence
  sweep: they visit only the due tenants), and the slow full sweep over all;
- ingest latency (p50) of a busy tenant beside all the idle ones, and of a
  lone tenant in a database of its own (DATABASE_URL's name + "_lone");
- the resident memory of a gunicorn worker and a Celery worker that ran a
  full sweep over every tenant.

--create-seconds bounds the creation phase, preparation included (the run goes
on with the tenants made by then and says how many). Re-runs reuse the tenants
and the spares already there.
--creation-only stops after the creation figures (bench/results/tenants-creation.md).

    make bench-tenants [BENCH_ARGS="--tenants 10000 --create-seconds 4200"]  # ~1 h on 2 cores
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Tasks enqueued here go to a queue of the benchmark's own (the worker below
# consumes it; nothing else does).
os.environ.setdefault("HERALD_CELERY_QUEUE", f"bench-tenants-{uuid.uuid4().hex[:8]}")

from bench.common import (
    bench_environment,
    bench_tenant,
    free_port,
    http_ready,
    results_write,
    spawn,
    stop,
    wait_for_port,
)
from bench.tenant_creation import (
    creation_lines,
    tenants_create_bulk,
    tenants_create_cloned,
    tenants_create_from_spares,
    tenants_create_migrated,
)

PREFIX = "bt"


def _slug(index: int) -> str:
    return f"{PREFIX}-{index:05d}"


def busy_make(slugs: list[str], receiver_url: str) -> list[tuple[object, str]]:
    """Each busy tenant: a receiver, an ingest key, and every kind of due entry, due now."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from tenants.due_work import due_work_note
    from tenants.models_due import DueKind

    made = []
    for slug in slugs:
        tenant, key = bench_tenant(slug=slug, receiver_url=receiver_url)
        with tenant_context(tenant):
            for kind in DueKind:
                due_work_note(kind=kind, due_at=timezone.now())
        made.append((tenant, key))
    return made


def busy_due_again(tenants: list) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from tenants.due_work import due_work_note
    from tenants.models_due import DueKind

    for tenant in tenants:
        with tenant_context(tenant):
            for kind in DueKind:
                due_work_note(kind=kind, due_at=timezone.now() - timedelta(hours=1))


def ticks_measure(tenants: list, rounds: int) -> dict[str, dict]:
    """Each periodic task, run here as beat's task would (all due tenants in one process)."""
    from tenants.due_ticks import due_work_tick
    from tenants.models_due import DueKind

    figures: dict[str, dict] = {}
    for kind in DueKind:
        durations, claimed = [], []
        for _ in range(rounds):
            busy_due_again(tenants)
            started = time.perf_counter()
            result = due_work_tick(kind=kind, fan_out=None)
            durations.append(time.perf_counter() - started)
            claimed.append(result.claimed)
        idle_started = time.perf_counter()
        due_work_tick(kind=kind, fan_out=None)  # nothing due now
        figures[str(kind)] = {
            "median_s": statistics.median(durations), "max_s": max(durations),
            "tenants_visited": statistics.median(claimed),
            "nothing_due_s": time.perf_counter() - idle_started,
        }
    return figures


def full_sweep_measure() -> dict:
    from tenants.due_ticks import due_work_reindex, tenant_ids_all

    ids = tenant_ids_all()
    started = time.perf_counter()
    due_work_reindex(tenant_ids=ids)
    seconds = time.perf_counter() - started
    return {"tenants": len(ids), "seconds": seconds, "per_tenant_ms": seconds / len(ids) * 1000}


def _alert_body(counter: int) -> bytes:
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{alertname="Busy{counter}"}}', "status": "firing",
        "receiver": "herald", "groupLabels": {"alertname": f"Busy{counter}"},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": [{
            "status": "firing", "labels": {"alertname": f"Busy{counter}", "severity": "page"},
            "annotations": {"summary": "busy"}, "startsAt": "2026-12-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom",
            "fingerprint": f"{counter:016x}",
        }],
    }).encode()


def ingest_latency(port: int, key: str, requests: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies = []
    base = int(time.time() * 1000) << 8
    for counter in range(requests + 20):
        started = time.perf_counter()
        connection.request("POST", "/api/v1/alertmanager/", body=_alert_body(base + counter),
                           headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        if counter >= 20:  # warm-up
            latencies.append(time.perf_counter() - started)
    return statistics.median(latencies)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)],  # noqa: S603, S607 - our own child's
                         capture_output=True, text=True)
    return [int(value) for value in out.stdout.split()]


def web_measure(env: dict[str, str], key: str, requests: int) -> tuple[float, float]:
    """p50 ingest latency (s) of one tenant through gunicorn, and a gunicorn worker's RSS (MB)."""
    port = free_port()
    web = spawn([sys.executable, "-m", "gunicorn", "alerting.infra.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
                 "--log-level", "warning"], env)
    try:
        wait_for_port(port, "gunicorn", timeout=120)
        boot = http_ready(port, timeout=600)  # the master listens before its worker boots
        print(f"gunicorn worker answered {boot:.1f} s after its port opened", flush=True)
        latency = ingest_latency(port, key, requests)
        workers = _children(web.pid)
        rss = max((_rss_mb(pid) for pid in workers), default=_rss_mb(web.pid))
    finally:
        stop([web])
    return latency, rss


def lone_latency(env: dict[str, str], requests: int) -> float:
    """The same ingest for a tenant alone in a database of its own."""
    url = urlsplit(env["DATABASE_URL"])
    lone_db = url.path.lstrip("/") + "_lone"
    lone_url = urlunsplit(url._replace(path="/" + lone_db))
    # Fails harmlessly when it exists already (a re-run).
    subprocess.run(["createdb", "-h", url.hostname or "127.0.0.1",  # noqa: S603, S607
                    "-U", url.username or "postgres", lone_db], capture_output=True)
    lone_env = {**env, "DATABASE_URL": lone_url}
    script = (
        "import sys; sys.path.insert(0, '.');"
        "from bench.common import bench_environment, bench_tenant; bench_environment();"
        "t, key = bench_tenant(slug='lone', receiver_url='http://127.0.0.1:9/'); print(key)"
    )
    out = subprocess.run([sys.executable, "-c", script], env=lone_env, capture_output=True,  # noqa: S603
                         text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    key = out.stdout.strip().splitlines()[-1]
    latency, _ = web_measure(lone_env, key, requests)
    return latency


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _until_idle(pid: int, quiet: float = 3.0) -> float:
    """When the worker last used CPU before `quiet` seconds without any (its work is done)."""
    last, last_busy = _cpu_ticks(pid), time.perf_counter()
    while time.perf_counter() - last_busy < quiet:
        time.sleep(0.5)
        now = _cpu_ticks(pid)
        if now - last > 2:  # more than the idle loop's ticks
            last_busy = time.perf_counter()
        last = now
    return last_busy


def worker_rss(env: dict[str, str]) -> tuple[float, float]:
    """A Celery worker's RSS (MB) after a full sweep over every tenant; the sweep's time."""
    from tenants.due_ticks import tenant_ids_all
    from tenants.tasks import due_work_reindex_batch

    worker = spawn([sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "worker",
                    "--pool", "threads", "--concurrency", "4", "--loglevel", "WARNING",
                    "--without-gossip", "--without-mingle",
                    "-Q", os.environ["HERALD_CELERY_QUEUE"]],
                   env)
    try:
        time.sleep(2)
        booted = time.perf_counter()
        _until_idle(worker.pid)  # its start-up done (it reads every tenant's schema)
        print(f"Celery worker idle {time.perf_counter() - booted:.1f} s after start", flush=True)
        ids = tenant_ids_all()
        started = time.perf_counter()
        for start in range(0, len(ids), 200):
            due_work_reindex_batch.apply_async((ids[start:start + 200],))
        seconds = _until_idle(worker.pid) - started
        rss = _rss_mb(worker.pid)
    finally:
        stop([worker])
    return rss, seconds


def _environment(migrate_all: bool):
    """bench_environment's: the shared schema migrated, and with `migrate_all` every
    tenant's schema with the multiprocessing executor (timed; hours at 10,000 schemas)."""
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    if migrate_all:
        call_command("migrate_schemas", tenant=True, executor="multiprocessing",
                     interactive=False, verbosity=0)
    seconds = time.perf_counter() - started
    return bench_environment_migrated(), (seconds if migrate_all else None)


def bench_environment_migrated():
    """The environment of bench.common without its (sequential) migrate_schemas."""
    from django.core import management

    original = management.call_command
    management.call_command = lambda *args, **kwargs: None
    try:
        return bench_environment()
    finally:
        management.call_command = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--busy-share", type=float, default=0.01)
    parser.add_argument("--create-seconds", type=float, default=3600)
    parser.add_argument("--migrated", type=int, default=3, help="tenants migrated, to compare")
    parser.add_argument("--from-spares", type=int, default=0,
                        help="tenants made from a spare schema, each prepared just before")
    parser.add_argument("--cloned", type=int, default=5,
                        help="tenants cloned while no spare is free, to compare")
    parser.add_argument("--preparers", type=int, default=2,
                        help="processes preparing the bulk's spares in parallel")
    parser.add_argument("--no-synchronous-commit", action="store_true",
                        help="the preparers' sessions commit asynchronously")
    parser.add_argument("--migrate-all", action="store_true",
                        help="time migrate_schemas over every tenant schema first")
    parser.add_argument("--creation-only", action="store_true",
                        help="stop after the creation figures")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("DATABASE_URL: a database of the benchmark's own, e.g. "
                 "postgres://postgres@127.0.0.1/bench_tenants")

    redis = None
    if "CELERY_BROKER_URL" not in os.environ:
        # Before Django and Celery read it, so this process publishes where the
        # worker below consumes (bench_environment would start one only for children).
        from alerting.infra.embedded import EmbeddedRedis

        redis = EmbeddedRedis(Path(__file__).resolve().parent.parent / ".var" / "bench-tenants")
        os.environ["CELERY_BROKER_URL"] = redis.start().url
    began, load_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]
    bench, migrate_seconds = _environment(args.migrate_all)
    bulk = tenants_create_bulk([_slug(index) for index in range(args.tenants)],
                               seconds=args.create_seconds, preparers=args.preparers,
                               synchronous_commit=not args.no_synchronous_commit)
    existing = bulk["existing"]
    print(f"tenants: {existing} ({len(bulk['from_spare']) + len(bulk['cloned'])} created now)",
          flush=True)
    cloned = tenants_create_cloned(args.cloned)
    migrated = tenants_create_migrated(args.migrated) if args.migrated else []
    from_spares, prepared = tenants_create_from_spares(args.from_spares)
    creation = creation_lines(bulk, cloned, from_spares, prepared, migrated)
    run = {"began": began, "load_start": load_start}
    run["load_end"] = os.getloadavg()[0]  # written now, and again at the end
    results_write("tenants-creation", {"tenants": existing, **run, **creation[0]},
                  "\n".join([_run_line(run), "", "| figure | value |", "|---|---|",
                             *creation[1]]))
    if args.creation_only:
        bench.close()
        if redis is not None:
            redis.stop()
        return
    busy_count = max(1, round(existing * args.busy_share))
    busy = busy_make([_slug(index) for index in range(0, existing, max(1, existing // busy_count))]
                     [:busy_count], receiver_url="http://127.0.0.1:9/")
    ticks = ticks_measure([tenant for tenant, _ in busy], args.rounds)
    busy_latency, web_rss = web_measure(bench.env, busy[0][1], args.requests)
    lone = lone_latency(bench.env, args.requests)
    rss_worker, sweep_seconds = worker_rss(bench.env)
    full = full_sweep_measure()
    bench.close()
    if redis is not None:
        redis.stop()

    run["load_end"] = os.getloadavg()[0]
    data = {
        "tenants": existing, "busy": len(busy), **run, **creation[0],
        "migrate_all_schemas_multiprocessing_s": migrate_seconds,
        "ticks": ticks, "full_sweep": full, "full_sweep_on_worker_s": sweep_seconds,
        "ingest_busy_p50_ms": busy_latency * 1000, "ingest_lone_p50_ms": lone * 1000,
        "ingest_ratio": busy_latency / lone, "rss_web_mb": web_rss, "rss_worker_mb": rss_worker,
    }
    lines = [f"Tenants: {existing}, busy: {len(busy)}. {_run_line(run)}", "",
             "| figure | value |", "|---|---|", *creation[1]]
    for kind, figure in ticks.items():
        lines.append(f"| tick {kind} ({figure['tenants_visited']:.0f} due tenants), median / max | "
                     f"{figure['median_s'] * 1000:.0f} ms / {figure['max_s'] * 1000:.0f} ms "
                     f"(nothing due: {figure['nothing_due_s'] * 1000:.1f} ms) |")
    lines += [
        f"| full sweep (reindex), all {full['tenants']} tenants, one process | "
        f"{full['seconds']:.1f} s ({full['per_tenant_ms']:.2f} ms a tenant) |",
        f"| full sweep on a 4-thread worker | {sweep_seconds:.1f} s |",
        f"| ingest p50, busy tenant beside {existing - 1} others | {busy_latency * 1000:.1f} ms |",
        f"| ingest p50, lone tenant | {lone * 1000:.1f} ms (ratio {data['ingest_ratio']:.2f}) |",
        f"| RSS gunicorn worker / Celery worker | {web_rss:.0f} MB / {rss_worker:.0f} MB |",
    ]
    if migrate_seconds is not None:
        lines.append(f"| migrate_schemas, every schema, multiprocessing executor | "
                     f"{migrate_seconds:.1f} s |")
    results_write("tenants", data, "\n".join(lines))


def _run_line(run: dict) -> str:
    return (f"Run began {run['began']}; load average (1 min) {run['load_start']:.1f} at the "
            f"start, {run['load_end']:.1f} at the end.")


if __name__ == "__main__":
    main()
