"""What the benchmarks share: Herald's environment, a tenant, ports, percentiles."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")


@dataclass
class BenchEnvironment:
    """Environment for Herald's child processes, and a psycopg DSN for the ceiling."""

    env: dict[str, str]
    dsn: str
    redis: object | None

    def close(self) -> None:
        if self.redis is not None:
            self.redis.stop()


def bench_environment() -> BenchEnvironment:
    """Django set up, PostgreSQL (embedded or DATABASE_URL) migrated, a broker running."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from alerting.infra.embedded import EmbeddedRedis

    # Latency and throughput are measured, not Herald's rate limits.
    env = {
        **os.environ,
        "HERALD_LOG_LEVEL": "WARNING",
        "HERALD_TENANT_DELIVERY_RATE_LIMIT": "1000000/second",
        "HERALD_RECEIVER_RATE_LIMIT": "1000000/second",
    }
    redis = None
    if "CELERY_BROKER_URL" not in os.environ:
        redis = EmbeddedRedis(Path(settings.VAR_DIR) / "bench").start()
        env["CELERY_BROKER_URL"] = redis.url
    db = settings.DATABASES["default"]
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"postgres://postgres@{quote(db['HOST'], safe='')}/{db['NAME']}"
    dsn = f"host={db['HOST']} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    if db.get("PASSWORD"):
        dsn += f" password={db['PASSWORD']}"
    call_command("migrate_schemas", interactive=False, verbosity=0)
    return BenchEnvironment(env=env, dsn=dsn, redis=redis)


def bench_tenant(*, slug: str, receiver_url: str):
    """A tenant with no rate limit, a fresh ingest key and one webhook receiver."""
    from django_tenants.utils import tenant_context

    from receivers.models import Receiver
    from receivers.services import receiver_create, receiver_secret_set
    from tenants.models import Tenant
    from tenants.services import ingest_key_create, tenant_create

    tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(
        slug=slug, name=f"Benchmark {slug}", domain=f"{slug}.localhost"
    )
    tenant.ingest_rate_limit = "1000000/second"
    tenant.allow_private_targets = True
    tenant.save(update_fields=["ingest_rate_limit", "allow_private_targets"])
    _, key = ingest_key_create(tenant=tenant, name="bench")
    with tenant_context(tenant):
        receiver = Receiver.objects.filter(name="bench").first()
        if receiver is None:
            receiver = receiver_create(name="bench", kind="webhook", secrets={"url": receiver_url})
        else:
            receiver_secret_set(receiver=receiver, name="url", value=receiver_url)
        receiver.rate_limit = "1000000/second"
        receiver.save(update_fields=["rate_limit"])
    return tenant, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port}")


def http_ready(port: int, timeout: float = 120) -> float:
    """Seconds until the server on `port` answers an HTTP request (any status)."""
    import http.client

    started = time.perf_counter()
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            connection.request("GET", "/", headers={"Host": "localhost"})
            connection.getresponse().read()
            connection.close()
            return time.perf_counter() - started
        except OSError:
            if time.perf_counter() - started > timeout:
                raise
            time.sleep(0.2)


def spawn(command: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own commands
        command, cwd=ROOT, env=env, start_new_session=True, **kwargs
    )


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def results_write(name: str, data: dict, table: str) -> None:
    import json

    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
    (folder / f"{name}.md").write_text(table + "\n")
    print(table)
