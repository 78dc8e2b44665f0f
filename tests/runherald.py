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
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from django.conf import settings

_INHERITED_NOT = {"DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"}


@dataclass(frozen=True)
class RunningHerald:
    banner: str
    port: int
    # The last lines runherald (and its children) printed after the banner.
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def log_tail(self) -> str:
        """What it printed lately, for an assertion's message."""
        return "".join(self.output)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drain(stream, output: deque[str]) -> None:
    try:
        for line in stream:
            output.append(line)
    except ValueError:  # closed at the end
        pass


def _read_until(process: subprocess.Popen, pattern: str, timeout: float,
                output: deque[str]) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if re.search(pattern, line):
            # Keep draining, so the children never block on a full pipe.
            threading.Thread(target=_drain, args=(process.stdout, output),
                             daemon=True).start()
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
_seed_failures: list[BaseException] = []
_seed_builders: list[threading.Thread] = []
_seed_lock = threading.Lock()


def _seed() -> Path:
    """The folder a first runherald of this test run set up and stopped cleanly.

    Made by `seed_prepare_in_background` while other tests run, if the session
    started it; otherwise here and now.
    """
    with _seed_lock:
        builder = _seed_builders[0] if _seed_builders else None
    if builder is not None:
        builder.join()
    with _seed_lock:
        if _seed_failures:
            raise _seed_failures[0]
        if not _seeds:
            _seed_build()
        return _seeds[0]


def _seed_build(*, background: bool = False) -> None:
    folder = Path(settings.BASE_DIR) / ".var" / f"seed-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    # In the background it takes the CPU the tests leave, however long that takes.
    options = (
        {"niceness": 10, "start_timeout": 600, "stop_timeout": 120, "stop_grace": 60}
        if background else {}
    )
    with running_herald(folder, **options):
        pass
    _seeds.append(folder)


def seed_prepare_in_background() -> None:
    """Start making the seed in a thread now: its first start from nothing (initdb,
    every migration, the keys and static files) is the same whichever test needs
    it first, and it then overlaps the tests that run before that one instead of
    adding to its time. A failure is raised in the first test that asks for the
    seed, as if it had made it itself."""
    with _seed_lock:
        if _seeds or _seed_builders:
            return

        def build() -> None:
            try:
                _seed_build(background=True)
            except BaseException as error:  # pytest.fail raises one too: for the test
                _seed_failures.append(error)

        builder = threading.Thread(target=build, name="runherald-seed", daemon=True)
        _seed_builders.append(builder)
        builder.start()


def seed_finish() -> None:
    """At the end of the session: let a seed still being made stop cleanly (its
    servers would be left behind otherwise)."""
    for builder in _seed_builders:
        builder.join(900)


def needs_seed(item: pytest.Item) -> bool:
    """Whether a test (or one of its fixtures) names `private_var_dir`, which copies
    the seed."""
    functions = [getattr(item, "obj", None)]
    fixture_info = getattr(item, "_fixtureinfo", None)
    if fixture_info is not None:
        functions += [
            definition.func
            for definitions in fixture_info.name2fixturedefs.values()
            for definition in definitions
        ]
    return any(
        "private_var_dir" in getattr(getattr(function, "__code__", None), "co_names", ())
        for function in functions
    )


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
    niceness: int = 0,
    start_timeout: float = 90,
    stop_timeout: float = 30,
    stop_grace: float = 5,
) -> Iterator[RunningHerald]:
    """Run it until the block ends; then `stop_signal` must stop it cleanly, leaving no
    server behind.

    Its own embedded PostgreSQL and Redis live in `var_dir`: nothing is
    inherited from the test run. `niceness`: run it (and so all it starts)
    at that lower priority; the timeouts bound its start and its stop.
    """
    port = free_port()
    command = herald_command(port, web_workers=web_workers, worker_concurrency=worker_concurrency)
    if niceness:
        command = ["nice", "-n", str(niceness), *command]  # nice execs it: same pid
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        command, cwd=settings.BASE_DIR, env=herald_env(var_dir), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output: deque[str] = deque(maxlen=200)
        banner = _read_until(process, r"Press Ctrl-C to stop", timeout=start_timeout,
                             output=output)
        yield RunningHerald(banner=banner, port=port, output=output)
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            # A server left behind holds the output pipe open: closing it
            # would wait for the draining thread forever.
            left_behind = kill_left_behind(var_dir, port, grace=stop_grace)
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
