"""End-to-end benchmark: a real Alertmanager in front of Herald, and beside it.

Three Prometheus Alertmanagers (Debian's package, installed if missing, bound
to 127.0.0.1, clustering off) get the same alerts through their API at the same
moment. One sends its webhook to Herald (gunicorn, Celery worker), which
delivers to a stand-in receiver; one sends its own webhook straight to the
same stand-in, as the peer baseline; and one sends it through the framework
floor (bench/floor.py: a bare DRF view under the same gunicorn that posts it
on with requests), the least one more Django hop costs. The stand-in
timestamps every alert's arrival. Usage: make bench [BENCH_ARGS=...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
from common import (
    bench_environment,
    bench_tenant,
    free_port,
    percentile,
    results_write,
    spawn,
    stop,
    wait_for_port,
)

ALERTMANAGER = "prometheus-alertmanager"


class StandIn(ThreadingHTTPServer):
    """A receiver that records when each alert first arrived, per path."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _StandInHandler)
        self.arrivals: dict[tuple[str, str, str], float] = {}
        self.lock = threading.Lock()


class _StandInHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
        try:
            alerts = json.loads(body).get("alerts", [])
        except ValueError:
            return
        with self.server.lock:
            for alert in alerts:
                labels = alert.get("labels", {})
                key = (self.path, labels.get("run", ""), labels.get("i", ""))
                self.server.arrivals.setdefault(key, arrived)

    def log_message(self, *args):
        pass


def alertmanager_binary() -> str:
    found = shutil.which(ALERTMANAGER)
    if found:
        return found
    print("Installing Debian's prometheus-alertmanager …", flush=True)
    sudo = [] if shutil.which("sudo") is None or _root() else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", ALERTMANAGER],
        check=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    return shutil.which(ALERTMANAGER) or "/usr/bin/prometheus-alertmanager"


def _root() -> bool:
    import os

    return os.geteuid() == 0


def alertmanager_start(folder: Path, port: int, webhook: str, bearer: str | None, env):
    folder.mkdir(parents=True, exist_ok=True)
    auth = (
        f"\n        http_config:\n          authorization:\n            type: Bearer\n"
        f"            credentials: {bearer}"
        if bearer
        else ""
    )
    (folder / "alertmanager.yml").write_text(
        "route:\n  receiver: out\n  group_by: [alertname, run]\n  group_wait: 50ms\n"
        "  group_interval: 1s\n  repeat_interval: 24h\n"
        f"receivers:\n  - name: out\n    webhook_configs:\n      - url: {webhook}{auth}\n"
    )
    process = spawn(
        [
            alertmanager_binary(),
            f"--config.file={folder / 'alertmanager.yml'}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, "alertmanager")
    return process


def fire(ports: list[int], alerts: list[dict]) -> float:
    """Post the alerts to every Alertmanager at once; return when they were posted."""
    body = json.dumps(alerts).encode()
    posted = time.time()
    threads = [
        threading.Thread(target=_post, args=(f"http://127.0.0.1:{port}/api/v2/alerts", body))
        for port in ports
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return posted


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def scenario_alerts(name: str, group: int, size: int) -> list[dict]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return [
        {
            "labels": {
                "alertname": "BenchLatency",
                "run": f"{name}-{group}",
                "i": str(i),
                "severity": "critical",
                "service": "checkout",
            },
            "annotations": {"summary": f"Benchmark alert {i} of group {group}"},
            "startsAt": now,
            "generatorURL": "http://prometheus:9090/graph",
        }
        for i in range(size)
    ]


def rss_mb(processes: list[subprocess.Popen]) -> float:
    total = 0
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            total += sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios", default="60x1,20x10,5x100", help="groups x alerts per group, comma-separated"
    )
    parser.add_argument("--rate", type=float, default=10.0, help="groups fired per second")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--web-threads", type=int, default=4,
        help="gunicorn threads per worker; 1 runs gunicorn's sync workers, as runherald does",
    )
    parser.add_argument("--worker-concurrency", type=int, default=8)
    args = parser.parse_args()

    environment = bench_environment()
    env = environment.env
    folder = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    stand_in = StandIn(free_port())
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    sink = f"http://127.0.0.1:{stand_in.server_port}"
    _, key = bench_tenant(slug="bench-e2e", receiver_url=f"{sink}/herald")
    herald_port, via_port, direct_port = free_port(), free_port(), free_port()
    floor_port, floor_via_port = free_port(), free_port()
    access_log = folder / "access.log"
    gunicorn_shape = ["--workers", str(args.web_workers), "--threads", str(args.web_threads)]

    web = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "alerting.infra.wsgi:application",
            "--bind",
            f"127.0.0.1:{herald_port}",
            *gunicorn_shape,
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(U)s %(s)s %(M)s",
        ],
        env,
    )
    worker = spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "alerting",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(args.worker_concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
    )
    floor = spawn(
        [
            sys.executable, "-m", "gunicorn", "--chdir", "bench", "floor:application",
            "--bind", f"127.0.0.1:{floor_port}", *gunicorn_shape, "--log-level", "warning",
        ],
        {**env, "FLOOR_FORWARD_URL": f"{sink}/floor"},
    )
    processes = [web, worker, floor]
    rows: list[dict] = []
    try:
        wait_for_port(herald_port, "gunicorn")
        wait_for_port(floor_port, "the floor's gunicorn")
        processes.append(
            alertmanager_start(
                folder / "via-herald",
                via_port,
                f"http://127.0.0.1:{herald_port}/api/v1/alertmanager/",
                key,
                env,
            )
        )
        processes.append(
            alertmanager_start(folder / "direct", direct_port, f"{sink}/direct", None, env)
        )
        processes.append(
            alertmanager_start(
                folder / "via-floor", floor_via_port, f"http://127.0.0.1:{floor_port}/forward",
                None, env,
            )
        )
        ports = [via_port, direct_port, floor_via_port]
        # Warm up (worker consuming, connections open); not measured.
        run_scenario("warmup", 3, 2, args.rate, stand_in, ports, access_log)
        for spec in args.scenarios.split(","):
            groups, size = (int(part) for part in spec.split("x"))
            rows.append(
                run_scenario(spec, groups, size, args.rate, stand_in, ports, access_log)
            )
        memory = {"web_mb": rss_mb([web]), "worker_mb": rss_mb([worker])}
    finally:
        stop(processes)
        stand_in.shutdown()
        environment.close()
        shutil.rmtree(folder, ignore_errors=True)

    lines = [
        f"End to end, Alertmanager → Herald (gunicorn {args.web_workers}x{args.web_threads}, "
        f"worker threads x{args.worker_concurrency}) → stand-in, beside Alertmanager → "
        f"stand-in and Alertmanager → framework floor → stand-in; {args.rate:g} groups/s",
        "",
        "| groups x alerts | alerts/s offered | webhook p50/p95/p99 ms | via Herald p50/p95/p99 ms"
        " | Alertmanager alone p50/p95/p99 ms | via the floor p50/p95/p99 ms"
        " | Herald / Alertmanager (p50) | floor / Alertmanager (p50) | lost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['ingest_alerts_per_s']:.0f} | "
            f"{r['webhook_ms'][0]:.1f} / {r['webhook_ms'][1]:.1f} / {r['webhook_ms'][2]:.1f} | "
            f"{r['herald_ms'][0]:.0f} / {r['herald_ms'][1]:.0f} / {r['herald_ms'][2]:.0f} | "
            f"{r['direct_ms'][0]:.0f} / {r['direct_ms'][1]:.0f} / {r['direct_ms'][2]:.0f} | "
            f"{r['floor_ms'][0]:.0f} / {r['floor_ms'][1]:.0f} / {r['floor_ms'][2]:.0f} | "
            f"{r['ratio_p50']:.2f} | {r['floor_ratio_p50']:.2f} | {r['lost']} |"
        )
    lines += [
        "",
        f"Memory at the end: web {memory['web_mb']:.0f} MiB, "
        f"worker {memory['worker_mb']:.0f} MiB (RSS, all processes)",
    ]
    results_write("e2e", {"settings": vars(args), "rows": rows, "memory": memory}, "\n".join(lines))


def run_scenario(name, groups, size, rate, stand_in, ports, access_log) -> dict:
    fired: dict[tuple[str, str], float] = {}
    log_start = access_log.stat().st_size if access_log.exists() else 0
    started = time.time()
    for group in range(groups):
        alerts = scenario_alerts(name, group, size)
        posted = fire(ports, alerts)
        for alert in alerts:
            fired[(alert["labels"]["run"], alert["labels"]["i"])] = posted
        time.sleep(max(0.0, started + (group + 1) / rate - time.time()))
    deadline = time.time() + 120
    while time.time() < deadline:
        with stand_in.lock:
            arrived = sum(1 for key in stand_in.arrivals if key[1].startswith(f"{name}-"))
        if arrived >= len(ports) * len(fired):
            break
        time.sleep(0.2)
    with stand_in.lock:
        arrivals = dict(stand_in.arrivals)

    def latencies(path: str) -> list[float]:
        return [arrivals[(path, *k)] - t for k, t in fired.items() if (path, *k) in arrivals]

    herald, direct, floor = latencies("/herald"), latencies("/direct"), latencies("/floor")
    webhook = []
    with access_log.open() as log:
        log.seek(log_start)
        for line in log:
            path, status, millis = line.split()
            if path.startswith("/api/v1/alertmanager/") and status == "200":
                webhook.append(float(millis))
    fired_seconds = max(fired.values()) - started or 1e-9

    def spread(values):
        return [percentile([v * 1000 for v in values], q) for q in (50, 95, 99)]

    return {
        "scenario": f"{groups} x {size}",
        "alerts": len(fired),
        # Alertmanager's rate of alerts into Herald: what was fired, as fast
        # as the Alertmanagers took it (all of it was delivered unless "lost").
        "ingest_alerts_per_s": len(fired) / fired_seconds,
        "webhook_requests": len(webhook),
        "webhook_ms": [percentile(webhook, q) for q in (50, 95, 99)] if webhook else [0, 0, 0],
        "herald_ms": spread(herald),
        "direct_ms": spread(direct),
        "floor_ms": spread(floor),
        "ratio_p50": percentile(herald, 50) / percentile(direct, 50),
        "floor_ratio_p50": percentile(floor, 50) / percentile(direct, 50),
        "lost": len(fired) - len(herald),
    }


if __name__ == "__main__":
    main()
