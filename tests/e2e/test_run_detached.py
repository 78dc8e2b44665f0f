"""`manage.py runherald` started detached, as an operator does on a server.

A shell starts it with `setsid … &`, waits until it is ready and exits, as
the shell of an ssh session or a deploy script does. Herald must keep serving
until it is told to stop, and then stop every process it started. Only
`--stop-with-parent` (what `make run` passes) ties it to the shell.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from django.conf import settings

from tests.conftest import wait_for
from tests.runherald import (
    free_port,
    herald_command,
    herald_env,
    kill_left_behind,
    private_var_dir,
    still_running,
)

pytestmark = pytest.mark.e2e


def _started_by_a_shell_that_exits(var_dir: Path, port: int, *options: str) -> psutil.Process:
    """`setsid runherald … &` from a shell that waits for the banner, then exits."""
    var_dir.mkdir(parents=True, exist_ok=True)
    log = var_dir / "runherald.log"
    log.unlink(missing_ok=True)
    script = (
        f"setsid {shlex.join(herald_command(port, *options))} > {shlex.quote(str(log))} 2>&1"
        " < /dev/null &\n"
        "echo $!\n"
        f"until grep -qs 'Press Ctrl-C to stop' {shlex.quote(str(log))}; do\n"
        "  kill -0 $! 2>/dev/null || exit 1\n"
        "  sleep 0.1\n"
        "done\n"
    )
    shell = subprocess.run(  # noqa: S603 - our own script
        ["/bin/bash", "-c", script], cwd=settings.BASE_DIR, env=herald_env(var_dir),
        capture_output=True, text=True, timeout=90,
    )
    assert shell.returncode == 0, log.read_text() if log.exists() else shell.stderr
    # setsid runs in the shell's process group, so it becomes the session
    # leader itself and execs runherald: the pid the shell saw is Herald's.
    return psutil.Process(int(shell.stdout.split()[0]))


def _has_stopped(process: psutil.Process) -> bool:
    return not still_running([process])


def _stop_for_good(herald: psutil.Process) -> None:
    """After a failure: stop it as an operator would, so the next run starts clean."""
    if not _has_stopped(herald):
        herald.send_signal(signal.SIGTERM)
        try:
            psutil.wait_procs([herald], timeout=30)
        finally:
            if not _has_stopped(herald):
                herald.kill()


@pytest.fixture
def var_dir() -> Iterator[Path]:
    with private_var_dir("run-detached") as path:
        yield path


def test_started_detached_it_outlives_its_shell_and_sigterm_stops_everything(var_dir):
    port = free_port()
    herald = _started_by_a_shell_that_exits(var_dir, port)
    try:
        time.sleep(1)  # time enough for a parent-death signal to do its work
        health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
        assert health.status_code == 200
        assert "Stopping Herald" not in (var_dir / "runherald.log").read_text()
        started = [herald, *herald.children(recursive=True)]
        assert len(started) >= 4  # gunicorn (and its worker), the worker, beat, Redis

        herald.send_signal(signal.SIGTERM)
        wait_for(lambda: _has_stopped(herald), timeout=30)
    finally:
        _stop_for_good(herald)
        left_behind = kill_left_behind(var_dir, port)

    log = (var_dir / "runherald.log").read_text()
    assert "Stopping Herald" in log
    assert "Traceback" not in log
    assert not left_behind, f"still running after runherald stopped: {left_behind}"
    wait_for(lambda: not still_running(started), timeout=5)


def test_with_stop_with_parent_it_stops_when_the_shell_that_started_it_exits(var_dir):
    port = free_port()
    herald = _started_by_a_shell_that_exits(var_dir, port, "--stop-with-parent")
    try:
        wait_for(lambda: _has_stopped(herald), timeout=30)
    finally:
        _stop_for_good(herald)
        left_behind = kill_left_behind(var_dir, port)

    assert "Stopping Herald" in (var_dir / "runherald.log").read_text()
    assert not left_behind, f"still running after runherald stopped: {left_behind}"
