"""`manage.py runherald --demo` in a folder of its own, as tests drive it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from tests.conftest import wait_for

_INHERITED_NOT = {"DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"}


@dataclass(frozen=True)
class RunningHerald:
    banner: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drain(stream) -> None:
    try:
        while stream.read(65536):
            pass
    except ValueError:  # closed at the end
        pass


def _read_until(process: subprocess.Popen, pattern: str, timeout: float) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if re.search(pattern, line):
            # Keep draining, so the children never block on a full pipe.
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return "".join(seen)
    pytest.fail(f"runherald never printed {pattern!r}; it printed:\n{''.join(seen)}")


def servers_using(var_dir: Path) -> list[psutil.Process]:
    """Processes (embedded PostgreSQL, Redis, children) started for that folder."""
    return [
        process
        for process in psutil.process_iter(["cmdline"])
        if str(var_dir) in " ".join(process.info["cmdline"] or [])
    ]


@contextmanager
def running_herald(
    var_dir: Path, *, web_workers: int = 1, worker_concurrency: int = 2
) -> Iterator[RunningHerald]:
    """Run it until the block ends; then it must exit cleanly, leaving no server behind.

    Its own embedded PostgreSQL and Redis live in `var_dir`: nothing is
    inherited from the test run.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_NOT}
    env["HERALD_VAR_DIR"] = str(var_dir)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "runherald", "--demo", "--port", str(port),
         "--web-workers", str(web_workers), "--worker-concurrency", str(worker_concurrency)],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    try:
        banner = _read_until(process, r"Press Ctrl-C to stop", timeout=90)
        yield RunningHerald(banner=banner, port=port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            process.stdout.close()
    assert process.returncode == 0
    wait_for(lambda: not servers_using(var_dir), timeout=5)
