"""`manage.py runherald --demo` (what `make run` runs), as a newcomer uses it.

Starts its own embedded PostgreSQL and Redis in a separate folder, posts the
curl line it prints, finds the alert in the demo sink, and stops cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests
from django.conf import settings

from tests.conftest import wait_for

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drain(stream) -> None:
    try:
        while stream.read(65536):
            pass
    except ValueError:  # closed by the test at the end
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


def _servers_using(var_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(var_dir) in cmdline:
            found.append(process)
    return found


def test_run_serves_the_demo_and_the_printed_curl_line_reaches_the_sink():
    var_dir = Path(settings.BASE_DIR) / ".var" / "run-test"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["HERALD_VAR_DIR"] = str(var_dir)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runherald", "--demo", "--port", str(port),
         "--web-workers", "1", "--worker-concurrency", "2"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    try:
        banner = _read_until(process, r"Press Ctrl-C to stop", timeout=90)
        curl = re.search(r"^\s*(curl .*)$", banner, re.MULTILINE).group(1)

        result = subprocess.run(  # noqa: S603
            ["/bin/bash", "-c", curl], capture_output=True, text=True, timeout=10, check=True
        )
        assert '"notifications":1' in result.stdout

        sink = f"http://127.0.0.1:{port}/demo/sink/"
        wait_for(lambda: "DiskFull" in requests.get(sink, timeout=5).text, timeout=15)
        assert "Disk /var is 97% full" in requests.get(sink, timeout=5).text
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise

    process.stdout.close()
    assert process.returncode == 0
    deadline = time.monotonic() + 5
    while _servers_using(var_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _servers_using(var_dir) == [], "an embedded server outlived the run command"
