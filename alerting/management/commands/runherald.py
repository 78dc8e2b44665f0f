"""Run all of Herald in the foreground: web, worker, scheduler (and demo tenant).

Embedded PostgreSQL (started by the settings) and Redis (started here) are
used when DATABASE_URL / CELERY_BROKER_URL are unset; they, and every child
process, are stopped on Ctrl-C, SIGTERM or SIGHUP (the terminal closed).

It keeps running when the process that started it exits (setsid, nohup,
systemd), unless --stop-with-parent asks otherwise, as `make run` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from alerting.infra.celery import app as celery_app
from alerting.infra.embedded import EmbeddedRedis
from tenants.checks import production_problems_text

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when its parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def _reachable_host(host: str) -> str:
    # A wildcard bind address is no address to put in a link.
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104


class Command(BaseCommand):
    help = "Run Herald: gunicorn, a Celery worker and Celery beat, in the foreground."
    # Checked in handle(), once --demo is known (production mode's checks do not apply).
    requires_system_checks = []
    _metrics_token = ""

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HERALD_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=8)
        parser.add_argument("--demo", action="store_true", help="Set up and show the demo tenant.")
        parser.add_argument(
            "--stop-with-parent", action="store_true",
            help="Stop when the process that started this one exits (what `make run` wants).",
        )

    def handle(
        self, *args, host, port, web_workers, worker_concurrency, demo, stop_with_parent,
        **options,
    ):
        parent = os.getppid()
        started = time.monotonic()
        redis: EmbeddedRedis | None = None
        children: list[subprocess.Popen] = []
        failed = False
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        # A closed terminal hangs us up; without a handler Python would die on
        # the spot and leave the embedded servers running. Under nohup SIGHUP
        # is ignored, and stays so: that is what nohup is asked for.
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
            signal.signal(signal.SIGHUP, _raise_stop)
        try:
            if stop_with_parent:
                # `make` does not pass SIGTERM on to its recipe: stop when it
                # goes. Not the default: a shell that starts us detached
                # (setsid, nohup, `&`) exits soon after, and we must outlive it.
                _die_with_parent()
                if os.getppid() != parent:  # it went before the signal was armed
                    raise _Stop
            env = dict(os.environ, DJANGO_SETTINGS_MODULE="alerting.infra.settings")
            if demo:
                env["HERALD_DEMO"] = "1"
                settings.HERALD_DEMO, settings.HERALD_PRODUCTION = True, False
            self.check(display_num_errors=False)
            if problems := production_problems_text():
                raise CommandError(f"Herald cannot start in production mode:\n{problems}")
            env.update(self._derived_settings(host, port, demo))
            if "DATABASE_URL" not in os.environ:
                socket_dir = settings.DATABASES["default"]["HOST"]
                env["DATABASE_URL"] = f"postgres://postgres@{quote(socket_dir, safe='')}/postgres"
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self._fresh_metrics_dir())
            if "CELERY_BROKER_URL" not in os.environ:
                redis = EmbeddedRedis(settings.VAR_DIR).start()
                env["CELERY_BROKER_URL"] = redis.url
                celery_app.conf.broker_url = redis.url  # for the start-up ping

            call_command("migrate_schemas", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            banner = self._demo_banner(host, port) if demo else ""
            connection.close()

            children = [self._spawn(command, env) for command in self._commands(
                host, port, web_workers, worker_concurrency
            )]
            self._wait_until_serving(host, port, children)
            self._wait_for_worker(children)
            self.stdout.write(f"Herald is ready in {time.monotonic() - started:.1f}s.")
            if banner:
                self.stdout.write(banner)
            self.stdout.write("Press Ctrl-C to stop.")
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A Herald process exited; stopping the others.")
            failed = True
        except _Stop:
            with contextlib.suppress(OSError):  # the terminal may be gone
                self.stdout.write("\nStopping Herald…")
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)
            self._stop(children)
            if redis:
                redis.stop()
        # Embedded PostgreSQL stops at interpreter exit (pgserver's atexit hook).
        if failed:
            # Non-zero, so that a supervisor (systemd's Restart=on-failure) starts it again.
            raise CommandError("Herald stopped because one of its processes exited.")

    def _derived_settings(self, host: str, port: int, demo: bool) -> dict[str, str]:
        """What the children get that was not set: the base URL of links from --host and
        --port (production mode requires it set, see tenants/checks.py), and in demo
        mode a /metrics token, printed in the banner."""
        derived = {}
        if not settings.HERALD_BASE_URL_SET:
            derived["HERALD_BASE_URL"] = f"http://{_reachable_host(host)}:{port}"
            settings.HERALD_BASE_URL = derived["HERALD_BASE_URL"]
        if demo and not (settings.HERALD_METRICS_BEARER_TOKEN
                         or settings.HERALD_METRICS_BASIC_AUTH):
            self._metrics_token = derived["HERALD_METRICS_BEARER_TOKEN"] = secrets.token_urlsafe(24)
            settings.HERALD_METRICS_BEARER_TOKEN = self._metrics_token
        return derived

    def _commands(self, host, port, web_workers, worker_concurrency) -> list[list[str]]:
        python = sys.executable
        return [
            [python, "-m", "gunicorn", "alerting.infra.wsgi:application",
             "--config", "python:alerting.infra.gunicorn_conf",
             "--bind", f"{host}:{port}", "--workers", str(web_workers),
             "--graceful-timeout", "5", "--log-level", "warning"],
            [python, "-m", "celery", "-A", "alerting.infra.celery", "worker", "--pool", "threads",
             "--concurrency", str(worker_concurrency), "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            [python, "-m", "celery", "-A", "alerting.infra.celery", "beat", "--loglevel", "WARNING",
             "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        ]

    def _fresh_metrics_dir(self) -> Path:
        """Where every child writes its metrics (prometheus_client multiprocess mode).

        Emptied at start: files of an earlier run would add its totals to ours.
        """
        path = Path(
            os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.VAR_DIR / "prometheus"
        )
        if path.exists():
            for stale in path.glob("*.db"):
                stale.unlink()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _spawn(self, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command,
            env=env,
            cwd=settings.BASE_DIR,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops them in order
            # Always: their parent is this runner, and none may outlive it,
            # even if it is killed with SIGKILL.
            preexec_fn=_die_with_parent,
        )

    def _wait_until_serving(self, host, port, children, timeout=30.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise RuntimeError("a Herald process exited during start-up")
            try:
                socket.create_connection((host, port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the web server did not listen on {host}:{port} in {timeout}s")

    def _wait_for_worker(self, children, timeout=30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise RuntimeError("a Herald process exited during start-up")
            if celery_app.control.ping(timeout=0.3):
                return
        raise RuntimeError(f"no Celery worker answered within {timeout}s")

    def _stop(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _demo_banner(self, host: str, port: int) -> str:
        from alerting.demo.services import demo_ensure

        base = f"http://{host}:{port}"
        demo = demo_ensure(domain="demo.localhost", sink_url=f"{base}/demo/sink/")
        ingest = f"{base}/api/v1/alertmanager/"
        # Only a token made for this run is shown; configured credentials are not echoed.
        metrics_auth = (
            f"Authorization: Bearer {self._metrics_token}" if self._metrics_token
            else "the configured HERALD_METRICS_* credentials"
        )
        sample = (
            '{"version":"4","groupKey":"{}:{alertname=\\"DiskFull\\"}","status":"firing",'
            '"receiver":"herald","groupLabels":{"alertname":"DiskFull"},'
            '"commonLabels":{"alertname":"DiskFull","severity":"critical"},'
            '"commonAnnotations":{},"externalURL":"http://alertmanager:9093",'
            '"alerts":[{"status":"firing","labels":{"alertname":"DiskFull",'
            '"severity":"critical","instance":"db-1"},"annotations":{"summary":'
            '"Disk /var is 97% full"},"startsAt":"\'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"\'",'
            '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph",'
            '"fingerprint":"\'"$(date +%s)"\'"}]}'
        )
        return "\n".join([
            "",
            f"  Tenant admin:  http://{demo.domain}:{port}/admin/",
            f"  Login:         {demo.admin_username} / {demo.admin_password}",
            f"  Operators:     {base}/admin/  (tenants, domains, ingest keys)",
            f"  Ingest URL:    {ingest}",
            f"  Ingest key:    {demo.ingest_key}",
            f"  Demo sink:     {base}/demo/sink/  (what the demo receiver got)",
            f"  API docs:      {base}/api/docs/",
            f"  Links go to:   {settings.HERALD_BASE_URL}/  (HERALD_BASE_URL)",
            f"  Metrics:       {base}/metrics  ({metrics_auth})",
            "",
            "  Post a sample alert:",
            f"  curl -sS -X POST {ingest} -H 'Authorization: Bearer {demo.ingest_key}' "
            f"-H 'Content-Type: application/json' -d '{sample}'",
            "",
        ])
