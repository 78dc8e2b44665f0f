"""A web process as production runs it (gunicorn, Herald's config) for tests that need one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings

from tests.conftest import wait_for
from tests.runherald import free_port


@contextlib.contextmanager
def web_process(env: dict[str, str], log: Path, *, workers: int = 2) -> Iterator[str]:
    """Gunicorn on a free loopback port with `env` over this process's; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, **env, "HERALD_BASE_URL": url,
                   "HERALD_METRICS_BEARER_TOKEN": "test-token"}
    with log.open("w") as output:
        web = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "gunicorn", "alerting.infra.wsgi:application",
             "--config", "python:alerting.infra.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", "4", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def serving() -> bool:
        if web.poll() is not None:
            raise AssertionError(log.read_text())
        with contextlib.suppress(requests.RequestException):  # not listening yet, or slow
            return requests.get(f"{url}/api/v1/health", timeout=10).status_code < 500
        return False

    try:
        wait_for(serving, timeout=60)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(web.pid, signal.SIGTERM)
        web.wait(20)
