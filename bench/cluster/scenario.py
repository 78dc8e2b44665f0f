"""The cluster and its scenario: faults while alerts flow, once per broker.

Hosts (one network namespace each, on one bridge): pg, rabbit, redis, lb
(HAProxy), web1 and web2 (gunicorn), work1 and work2 (Celery workers), beat,
am (Alertmanager), recv (the receiver) and client (posts alerts to
Alertmanager). For each broker the Herald hosts start against it, alerts
flow at a steady rate, and the faults follow one another, each brought back
before the next; then the flow stops, every alert is waited for, and bursts
measure throughput with one and with two worker hosts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cluster import hosts as H
from bench.cluster.netns import Host, Network, port_wait
from bench.cluster.tally import Counts, Fault, counts, missing, throughput


@dataclass(frozen=True)
class Plan:
    rate: float = 4.0  # alerts per second into Alertmanager
    calm_s: float = 8.0  # before the first fault
    observe_s: float = 10.0  # after each repair, before the next fault
    web_down_s: float = 6.0
    worker_down_s: float = 6.0
    unplugged_s: float = 10.0
    postgres_down_s: float = 3.0
    burst: int = 120  # alerts per throughput burst
    settle_timeout_s: float = 180.0

    @classmethod
    def short(cls) -> Plan:
        return cls(rate=3.0, calm_s=5.0, observe_s=6.0, web_down_s=4.0, worker_down_s=4.0,
                   unplugged_s=6.0, postgres_down_s=2.0, burst=40)


@dataclass
class BrokerResult:
    broker: str
    counts: Counts
    faults: list[Fault]
    throughput_one: tuple[int, float]
    throughput_two: tuple[int, float]
    seconds: float


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Cluster:
    """Everything but Herald's own hosts, started once; Herald's per broker."""

    def __init__(self, timings: H.Timings | None = None) -> None:
        self.timings = timings or H.Timings()
        self.folder = Path(tempfile.mkdtemp(prefix="herald-cluster-"))
        self.folder.chmod(0o711)  # the postgres user reaches its data folder inside
        self.network = Network()
        self.posted_file = self.folder / "posted.jsonl"
        self.received_file = self.folder / "deliveries.jsonl"
        self.key = ""

    def start(self) -> None:
        n = self.network.open()
        self.pg_host, self.rabbit = n.host_add("pg"), n.host_add("rabbit")
        self.redis = n.host_add("redis")
        self.lb, self.am, self.recv, self.client = (
            n.host_add("lb"), n.host_add("am"), n.host_add("recv"), n.host_add("client")
        )
        self.webs = [n.host_add("web1"), n.host_add("web2")]
        self.workers = [n.host_add("work1"), n.host_add("work2")]
        self.beat = n.host_add("beat")
        self.postgres = H.Postgres(n, self.pg_host, self.folder)
        self.postgres.init()
        self.postgres.start(fast_provisioning=True)
        self.broker_urls = {
            "RabbitMQ": H.rabbitmq_start(n, self.rabbit, self.folder),
            "Redis": H.redis_start(n, self.redis, self.folder),
        }
        n.spawn(self.recv, [sys.executable, "-m", "bench.cluster.receiver", "--bind",
                            f"{self.recv.address}:{H.RECEIVER_PORT}", "--out",
                            str(self.received_file)],
                env={"PATH": H.BASE_PATH}, log=self.folder / "recv.log", cwd=H.ROOT)
        port_wait(self.client, self.pg_host.address, 5432, "PostgreSQL")
        _log("provisioning (migrations, tenant) ...")
        env = self._env("Redis")
        self.key = H.provision(n, self.webs[0], env, self.folder,
                               f"http://{self.recv.address}:{H.RECEIVER_PORT}/hook")
        # Provisioned without fsync (it only matters when the machine crashes,
        # which no fault here does); the proof runs with PostgreSQL's defaults.
        self.postgres.stop()
        self.postgres.start()
        H.haproxy_start(n, self.lb, self.webs, self.folder)
        H.alertmanager_start(n, self.am, self.lb, self.key, self.folder)
        port_wait(self.client, self.am.address, H.AM_PORT, "Alertmanager")
        port_wait(self.client, self.rabbit.address, 5672, "RabbitMQ", timeout=120)
        port_wait(self.client, self.redis.address, 6379, "Redis")
        port_wait(self.client, self.recv.address, H.RECEIVER_PORT, "receiver")
        port_wait(self.client, self.pg_host.address, 5432, "PostgreSQL")

    def close(self) -> None:
        self.network.close()

    def _env(self, broker: str) -> dict[str, str]:
        if not hasattr(self, "_shared_env"):
            self._shared_env = H.herald_environment(
                database_url=self.postgres.url, broker_url="", lb=self.lb, webs=self.webs,
                timings=self.timings,
            )
        return {**self._shared_env, "CELERY_BROKER_URL": self.broker_urls[broker]}

    # --- Herald's hosts
    def web_start(self, host: Host, env: dict[str, str]) -> None:
        H.web_start(self.network, host, env, self.folder)
        port_wait(self.client, host.address, H.WEB_PORT, host.name, timeout=120)

    def worker_start(self, host: Host, env: dict[str, str], broker_port: int) -> None:
        H.worker_start(self.network, host, env, self.folder)
        self._connected(host, broker_port)

    def _connected(self, host: Host, port: int, timeout: float = 120) -> None:
        """Until the worker holds a connection to the broker (it consumes right after)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = subprocess.run(  # noqa: S603
                ["ip", "netns", "exec", host.namespace, "ss", "-Htn", "state",  # noqa: S607
                 "established", f"( dport = :{port} )"], capture_output=True, text=True,
            ).stdout
            if found.strip():
                time.sleep(1.0)
                return
            time.sleep(0.2)
        raise RuntimeError(f"{host.name} did not connect to the broker")

    # --- alerts
    def poster(
        self, run: str, rate: float, count: int = 0, burst: bool = False
    ) -> subprocess.Popen:
        command = [sys.executable, "-m", "bench.cluster.poster", "--am",
                   f"http://{self.am.address}:{H.AM_PORT}", "--run", run, "--rate", str(rate),
                   "--count", str(count), "--out", str(self.posted_file)]
        return self.network.spawn(self.client, [*command, *(["--burst"] if burst else [])],
                                  env={"PATH": H.BASE_PATH}, log=self.folder / "client.log",
                                  cwd=H.ROOT)

    def records(self) -> tuple[list[dict], list[dict]]:
        return _jsonl(self.posted_file), _jsonl(self.received_file)

    def wait_delivered(self, run: str, timeout: float) -> int:
        """Until every alert of `run` Alertmanager accepted has reached the receiver."""
        deadline = time.monotonic() + timeout
        while True:
            left = missing(*self.records(), run)
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)

    def run_broker(self, broker: str, plan: Plan) -> BrokerResult:
        started = time.monotonic()
        env, port = self._env(broker), 5672 if broker == "RabbitMQ" else 6379
        _log(f"{broker}: starting web1, web2, work1, work2, beat")
        for web in self.webs:
            self.web_start(web, env)
        for worker in self.workers:
            self.worker_start(worker, env, port)
        H.beat_start(self.network, self.beat, env, self.folder)
        warm = f"{broker}-warmup"
        self.poster(warm, 2, count=4).wait(60)
        if self.wait_delivered(warm, 120):
            raise RuntimeError(f"{broker}: the warm-up alerts never arrived; see {self.folder}")
        run = f"{broker}-flow"
        _log(f"{broker}: alerts flow at {plan.rate:g}/s")
        flow = self.poster(run, plan.rate)
        faults = self._faults(env, port, plan)
        flow.send_signal(signal.SIGTERM)
        flow.wait(30)
        faults[-1].window_end = time.time()
        _log(f"{broker}: flow stopped; waiting for every alert")
        self.wait_delivered(run, plan.settle_timeout_s)
        # A resend comes at the latest a lease and a sweep after its fault.
        time.sleep(self.timings.lease + self.timings.sweep_interval)
        result = counts(*self.records(), run, faults)
        one = self._burst(broker, "one", plan, stop=self.workers[1])
        self.worker_start(self.workers[1], env, port)
        two = self._burst(broker, "two", plan)
        for host in (*self.webs, *self.workers, self.beat):
            self.network.host_kill(host, signal.SIGTERM)
        return BrokerResult(broker, result, faults, one, two, time.monotonic() - started)

    def _faults(self, env: dict[str, str], port: int, plan: Plan) -> list[Fault]:
        n, web, work1, work2 = self.network, self.webs[0], self.workers[0], self.workers[1]
        faults: list[Fault] = []

        def begin(name: str, losing: int) -> Fault:
            if faults:
                faults[-1].window_end = time.time()
            _log(f"fault: {name}")
            faults.append(Fault(name=name, at=time.time(), hosts_losing_outcomes=losing))
            return faults[-1]

        def repaired(fault: Fault) -> None:
            fault.repaired_at = time.time()
            time.sleep(plan.observe_s)

        time.sleep(plan.calm_s)
        fault = begin("web host killed (SIGKILL)", 0)
        n.host_kill(web)
        time.sleep(plan.web_down_s)
        self.web_start(web, env)
        repaired(fault)
        fault = begin("worker host killed (SIGKILL)", 1)
        n.host_kill(work1)
        time.sleep(plan.worker_down_s)
        self.worker_start(work1, env, port)
        repaired(fault)
        fault = begin("worker host unplugged (link down)", 1)
        n.unplug(work2)
        time.sleep(plan.unplugged_s)
        n.plug(work2)
        repaired(fault)
        fault = begin("PostgreSQL restarted", len(self.workers))
        self.postgres.stop()
        time.sleep(plan.postgres_down_s)
        self.postgres.start()
        port_wait(self.client, self.pg_host.address, 5432, "PostgreSQL")
        repaired(fault)
        return faults

    def _burst(self, broker: str, hosts: str, plan: Plan, stop: Host | None = None):
        if stop is not None:
            self.network.host_kill(stop, signal.SIGTERM)  # a clean stop: one worker host left
        run = f"{broker}-burst-{hosts}"
        _log(f"{broker}: throughput, {plan.burst} alerts at once, {hosts} worker host(s)")
        self.poster(run, 1, count=plan.burst, burst=True).wait(60)
        self.wait_delivered(run, plan.settle_timeout_s)
        return throughput(*self.records(), run)


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:  # a line being written
            continue
    return lines


def preflight() -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("needs root (ip netns, veth, a bridge): run it as root or with sudo")
    if missing_tools := H.missing_tools():
        problems.append("missing: " + ", ".join(missing_tools)
                        + " (apt-get install haproxy prometheus-alertmanager rabbitmq-server"
                          " redis-server postgresql)")
    return problems
