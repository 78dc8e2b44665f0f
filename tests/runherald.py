"""`manage.py runherald --demo` in a folder of its own, as tests drive it."""

from __future__ import annotations

import atexit
import os
import re
import shutil
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

_INHERITED_NOT = {"DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"}


@dataclass(frozen=True)
class RunningHerald:
    banner: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
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


def servers_using(var_dir: Path, port: int | None = None) -> list[psutil.Process]:
    """Processes (embedded PostgreSQL, Redis, children) started for that folder or port.

    The Celery worker's command line names neither; its environment does.
    """

    def ours(process: psutil.Process) -> bool:
        cmdline = process.info["cmdline"] or []
        if str(var_dir) in " ".join(cmdline):
            return True
        if port is not None and any(a == str(port) or a.endswith(f":{port}") for a in cmdline):
            return True
        try:
            return process.environ().get("HERALD_VAR_DIR") == str(var_dir)
        except psutil.Error:
            return False

    return [
        process
        for process in psutil.process_iter(["cmdline", "status"])
        if process.info["status"] != psutil.STATUS_ZOMBIE and ours(process)
    ]


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` that are alive (a zombie has stopped; only its entry is left)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@contextmanager
def private_var_dir(name: str, *, seeded: bool = True) -> Iterator[Path]:
    """A folder of this test run's own, removed afterwards.

    Others may run the same test at the same time on this machine: a shared
    folder would have one run's Redis unlink the other's socket. `seeded`:
    a copy of the folder a first start set up (its PostgreSQL initialised and
    migrated, its keys and static files made), so runherald starts in a few
    seconds instead of twenty; `tests/e2e/test_run_command.py` starts one
    from nothing, as a newcomer does.
    """
    var_dir = Path(settings.BASE_DIR) / ".var" / f"{name}-{os.getpid()}"
    shutil.rmtree(var_dir, ignore_errors=True)
    if seeded:
        # cp -a keeps the owners: the embedded PostgreSQL runs as its own user under root.
        subprocess.run(["cp", "-a", str(_seed()), str(var_dir)], check=True, timeout=60)  # noqa: S603, S607
    try:
        yield var_dir
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


_seeds: list[Path] = []


def _seed() -> Path:
    """The folder a first runherald of this test run set up and stopped cleanly."""
    if not _seeds:
        folder = Path(settings.BASE_DIR) / ".var" / f"seed-{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        with running_herald(folder):
            pass
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _seeds.append(folder)
    return _seeds[0]


def herald_env(var_dir: Path) -> dict[str, str]:
    """The test run's environment, minus what would point runherald at the suite's servers."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_NOT}
    env["HERALD_VAR_DIR"] = str(var_dir)
    return env


def herald_command(
    port: int, *options: str, web_workers: int = 1, worker_concurrency: int = 2
) -> list[str]:
    return [
        sys.executable, "manage.py", "runherald", "--demo", "--port", str(port),
        "--web-workers", str(web_workers), "--worker-concurrency", str(worker_concurrency),
        *options,
    ]


@contextmanager
def running_herald(
    var_dir: Path,
    *,
    web_workers: int = 1,
    worker_concurrency: int = 2,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> Iterator[RunningHerald]:
    """Run it until the block ends; then `stop_signal` must stop it cleanly, leaving no
    server behind.

    Its own embedded PostgreSQL and Redis live in `var_dir`: nothing is
    inherited from the test run.
    """
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        herald_command(port, web_workers=web_workers, worker_concurrency=worker_concurrency),
        cwd=settings.BASE_DIR, env=herald_env(var_dir), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        banner = _read_until(process, r"Press Ctrl-C to stop", timeout=90)
        yield RunningHerald(banner=banner, port=port)
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            # A server left behind holds the output pipe open: closing it
            # would wait for the draining thread forever.
            left_behind = kill_left_behind(var_dir, port)
            process.stdout.close()
    assert process.returncode == 0
    assert not left_behind, f"still running after runherald stopped: {left_behind}"


def kill_left_behind(var_dir: Path, port: int, *, grace: float = 5.0) -> list[str]:
    """Wait `grace` seconds for the processes of that folder or port to go; kill the rest.

    Returns the command lines of those that had to be killed, for the assertion.
    """
    deadline = time.monotonic() + grace
    while (left := servers_using(var_dir, port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = []
    for process in left:
        try:
            killed.append(" ".join(process.cmdline()))
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return killed
