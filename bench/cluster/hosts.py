"""What runs on each host of the cluster, started inside its namespace.

Every server is this run's own instance (data in the run's folder, listening
on its host's address only): PostgreSQL (initdb), RabbitMQ and Redis (Debian's
packages), HAProxy in front of the two web hosts, Debian's Alertmanager, and
Herald's gunicorn, Celery workers and beat, started as the README says.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.cluster.netns import Host, Network

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
HAPROXY = "/usr/sbin/haproxy"
RABBITMQ = "/usr/lib/rabbitmq/bin/rabbitmq-server"
REDIS = "/usr/bin/redis-server"
BASE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
WEB_PORT, LB_PORT, RECEIVER_PORT, AM_PORT = 8000, 80, 9000, 9093
WORKER_CONCURRENCY = 4


@dataclass(frozen=True)
class Timings:
    """The recovery knobs this proof shortens, so faults resolve in seconds, not minutes."""

    http_timeout: float = 3.0  # lease = 2 x this + 5 s (HERALD_DELIVERY_LEASE_SECONDS unset)
    sweep_interval: int = 3
    sweep_pending_after: int = 5

    @property
    def lease(self) -> float:
        return 2 * self.http_timeout + 5


def pg_binary(name: str) -> str:
    found = PG_BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def missing_tools() -> list[str]:
    wanted = [
        ("ip", shutil.which("ip")), ("runuser", shutil.which("runuser")),
        ("initdb", pg_binary("initdb")), (RABBITMQ, RABBITMQ), (REDIS, REDIS),
        (HAPROXY, HAPROXY), (ALERTMANAGER, ALERTMANAGER),
    ]
    return [name for name, path in wanted if not path or not Path(path).exists()]


class Postgres:
    """A PostgreSQL of its own: initdb in the run's folder, run as the `postgres` user."""

    user = "postgres"

    def __init__(self, network: Network, host: Host, folder: Path) -> None:
        self.network, self.host, self.data = network, host, folder / "pgdata"
        self.log = folder / "postgres.log"
        self.process: subprocess.Popen | None = None

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        shutil.chown(self.data, self.user, self.user)
        subprocess.run(  # noqa: S603
            ["runuser", "-u", self.user, "--", pg_binary("initdb"), "-D", str(self.data),  # noqa: S607
             "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True,
        )
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.host.address.rsplit('.', 1)[0]}.0/24 trust\n")

    def start(self, *, fast_provisioning: bool = False) -> None:
        """Started with PostgreSQL's defaults; `fast_provisioning` turns fsync off
        (it matters only when the machine itself crashes) to migrate quicker."""
        unsafe = ["-c", "fsync=off", "-c", "full_page_writes=off"] if fast_provisioning else []
        self.process = self.network.spawn(
            self.host,
            [pg_binary("postgres"), "-D", str(self.data), "-k", str(self.data),
             "-h", self.host.address, "-p", "5432", "-c", "max_connections=200",
             "-c", "log_min_messages=warning", *unsafe],
            env={"PATH": BASE_PATH, "LC_ALL": "C.UTF-8"}, log=self.log, user=self.user,
        )

    def stop(self) -> None:
        """A fast shutdown (SIGINT to the postmaster): sessions are cut, as in a restart."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        if self.process:
            self.process.wait(60)

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host.address}:5432/postgres"


def rabbitmq_start(network: Network, host: Host, folder: Path) -> str:
    """This run's RabbitMQ (own node name, files, epmd: all inside the host's namespace)."""
    home = folder / "rabbitmq"
    (home / "log").mkdir(parents=True)
    (home / "rabbitmq-env.conf").write_text("")  # not Debian's, which pins 127.0.0.1
    (home / "enabled_plugins").write_text("[].\n")
    (home / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = {host.address}:5672\nloopback_users = none\n"
        "disk_free_limit.absolute = 50MB\nlog.console = false\n"
    )
    env = {
        "PATH": BASE_PATH, "HOME": str(home), "LC_ALL": "C.UTF-8",
        "RABBITMQ_NODENAME": "herald@localhost", "RABBITMQ_USE_LONGNAME": "false",
        "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
        "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(home / "mnesia"), "RABBITMQ_LOG_BASE": str(home / "log"),
        "RABBITMQ_PID_FILE": str(home / "rabbitmq.pid"),
    }
    network.spawn(host, [RABBITMQ], env=env, log=folder / "rabbitmq.log")
    return f"amqp://guest:guest@{host.address}:5672//"


def redis_start(network: Network, host: Host, folder: Path) -> str:
    (folder / "redis").mkdir()
    network.spawn(
        host,
        [REDIS, "--bind", host.address, "--port", "6379", "--save", "", "--appendonly", "no",
         "--protected-mode", "no", "--dir", str(folder / "redis")],
        env={"PATH": BASE_PATH}, log=folder / "redis.log",
    )
    return f"redis://{host.address}:6379/0"


def haproxy_start(network: Network, host: Host, webs: list[Host], folder: Path) -> None:
    """Round robin over the web hosts; a host failing its health check 3 times is out."""
    servers = "".join(
        f"    server {web.name} {web.address}:{WEB_PORT} check inter 1s fall 3 rise 2\n"
        for web in webs
    )
    config = folder / "haproxy.cfg"
    config.write_text(
        "global\n    maxconn 512\n\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n"
        # A check waits up to 3 s: on a starved CPU a busy host is slow, not gone.
        "    timeout server 15s\n    timeout check 3s\n    retries 3\n    option redispatch 1\n"
        # Ingest is idempotent: a request whose server vanished is tried on the other.
        "    retry-on conn-failure empty-response\n\n"
        f"frontend ingest\n    bind {host.address}:{LB_PORT}\n    default_backend herald\n\n"
        "backend herald\n    balance roundrobin\n"
        "    option httpchk\n"
        f"    http-check send meth GET uri /api/v1/health hdr Host {host.address}\n"
        f"{servers}"
    )
    network.spawn(host, [HAPROXY, "-db", "-f", str(config)], env={"PATH": BASE_PATH},
                  log=folder / "haproxy.log")


def alertmanager_start(
    network: Network, host: Host, lb: Host, key: str, folder: Path
) -> None:
    """Each alert its own group (group_by '...'), posted to Herald through the load balancer."""
    home = folder / "alertmanager"
    home.mkdir()
    (home / "alertmanager.yml").write_text(
        "global:\n  resolve_timeout: 1h\n"
        "route:\n  receiver: herald\n  group_by: ['...']\n  group_wait: 100ms\n"
        "  group_interval: 2s\n  repeat_interval: 24h\n"
        "receivers:\n  - name: herald\n    webhook_configs:\n"
        f"      - url: http://{lb.address}:{LB_PORT}/api/v1/alertmanager/\n"
        "        send_resolved: false\n        http_config:\n          authorization:\n"
        f"            type: Bearer\n            credentials: {key}\n"
    )
    network.spawn(
        host,
        [ALERTMANAGER, f"--config.file={home / 'alertmanager.yml'}",
         f"--storage.path={home / 'data'}", f"--web.listen-address={host.address}:{AM_PORT}",
         "--cluster.listen-address=", "--log.level=warn"],
        env={"PATH": BASE_PATH}, log=folder / "alertmanager.log",
    )


def herald_environment(
    *, database_url: str, broker_url: str, lb: Host, webs: list[Host], timings: Timings
) -> dict[str, str]:
    """What every Herald host shares: one database, one broker, the same keys."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{BASE_PATH}",
        "LC_ALL": "C.UTF-8",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "HERALD_ENCRYPTION_KEYS": _fernet_key(),
        "HERALD_AUDIT_KEYS": secrets.token_urlsafe(32),
        "HERALD_BASE_URL": f"http://{lb.address}",
        "HERALD_METRICS_BEARER_TOKEN": secrets.token_urlsafe(24),
        "ALLOWED_HOSTS": ",".join([lb.address, *(web.address for web in webs)]),
        "HERALD_LOG_LEVEL": "WARNING",
        # Correctness is measured here, not Herald's rate limits or grouping.
        "HERALD_TENANT_DELIVERY_RATE_LIMIT": "1000000/second",
        "HERALD_RECEIVER_RATE_LIMIT": "1000000/second",
        "HERALD_INGEST_RATE_LIMIT": "1000000/second",
        "HERALD_HTTP_TIMEOUT_SECONDS": str(timings.http_timeout),
        "HERALD_SWEEP_INTERVAL_SECONDS": str(timings.sweep_interval),
        "HERALD_SWEEP_PENDING_AFTER_SECONDS": str(timings.sweep_pending_after),
        "HERALD_TEMPLATE_RENDERERS": "1",
        "PYTHONUNBUFFERED": "1",
    }


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _host_env(env: dict[str, str], folder: Path, host: Host) -> dict[str, str]:
    var = folder / "var" / host.name
    var.mkdir(parents=True, exist_ok=True)
    return {**env, "HERALD_VAR_DIR": str(var)}


def web_start(network: Network, host: Host, env: dict[str, str], folder: Path) -> None:
    network.spawn(
        host,
        [sys.executable, "-m", "gunicorn", "alerting.infra.wsgi:application",
         "--config", "python:alerting.infra.gunicorn_conf", "--bind", f"{host.address}:{WEB_PORT}",
         "--workers", "1", "--threads", "4", "--graceful-timeout", "5", "--log-level", "warning"],
        env=_host_env(env, folder, host), log=folder / f"{host.name}.log", cwd=ROOT,
    )


def worker_start(network: Network, host: Host, env: dict[str, str], folder: Path) -> None:
    network.spawn(
        host,
        [sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "worker",
         "--pool", "threads", "--concurrency", str(WORKER_CONCURRENCY), "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--hostname", f"{host.name}@%h"],
        env=_host_env(env, folder, host), log=folder / f"{host.name}.log", cwd=ROOT,
    )


def beat_start(network: Network, host: Host, env: dict[str, str], folder: Path) -> None:
    """Exactly one beat for the installation, on a host of its own (no fault hits it)."""
    host_env = _host_env(env, folder, host)
    schedule = f"{host_env['HERALD_VAR_DIR']}/celerybeat-schedule"
    network.spawn(
        host,
        [sys.executable, "-m", "celery", "-A", "alerting.infra.celery", "beat",
         "--loglevel", "WARNING", "--schedule", schedule],
        env=host_env, log=folder / f"{host.name}.log", cwd=ROOT,
    )


def provision(network: Network, host: Host, env: dict[str, str], folder: Path,
              receiver_url: str) -> str:
    """Migrate the database and create the tenant with its receiver; return the ingest key."""
    done = subprocess.run(  # noqa: S603
        ["ip", "netns", "exec", host.namespace, sys.executable, "-m",  # noqa: S607
         "bench.cluster.provision", "--receiver-url", receiver_url],
        # One tenant, migrated by django-tenants: the proof is not about creation speed.
        env={**_host_env(env, folder, host), "HERALD_TENANT_SCHEMA_CLONE": "0"},
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"provisioning failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]
