"""`manage.py runherald --demo` (what `make run` runs), as a newcomer uses it.

Starts its own embedded PostgreSQL and Redis in a separate folder, posts the
curl line it prints, finds the alert in the demo sink, and stops cleanly, also
when the terminal it runs in is closed.
"""

from __future__ import annotations

import re
import signal
import subprocess
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
    running_herald,
    servers_using,
)

pytestmark = pytest.mark.e2e


def test_run_serves_the_demo_and_the_printed_curl_line_reaches_the_sink():
    with running_herald(Path(settings.BASE_DIR) / ".var" / "run-test") as herald:
        curl = re.search(r"^\s*(curl .*)$", herald.banner, re.MULTILINE).group(1)

        result = subprocess.run(  # noqa: S603
            ["/bin/bash", "-c", curl], capture_output=True, text=True, timeout=10, check=True
        )
        assert '"notifications":1' in result.stdout

        sink = f"{herald.base_url}/demo/sink/"
        wait_for(lambda: "DiskFull" in requests.get(sink, timeout=5).text, timeout=15)
        assert "Disk /var is 97% full" in requests.get(sink, timeout=5).text


def test_closing_the_terminal_stops_every_process_and_both_embedded_servers():
    # A closed terminal sends SIGHUP; running_herald then checks the exit is
    # clean and that no process of its folder or port is left.
    with (
        private_var_dir("run-hangup") as var_dir,
        running_herald(var_dir, stop_signal=signal.SIGHUP) as herald,
    ):
        assert requests.get(f"{herald.base_url}/api/v1/health", timeout=5).status_code == 200


def test_after_a_sigkill_only_postgres_is_left_and_the_next_start_takes_it_over():
    with private_var_dir("run-killed") as var_dir:
        var_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = var_dir / "killed.log"
        with log.open("w") as output:
            killed = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                herald_command(port), cwd=settings.BASE_DIR, env=herald_env(var_dir),
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            wait_for(lambda: "Press Ctrl-C to stop" in log.read_text(), timeout=90)
            killed.send_signal(signal.SIGKILL)
            killed.wait(10)

            def others_left() -> list[str]:
                left = []
                for process in servers_using(var_dir, port):
                    try:
                        if process.name() != "postgres":
                            left.append(" ".join(process.info["cmdline"] or []))
                    except psutil.Error:  # exited (or a zombie) since it was listed
                        continue
                return left

            # Redis, gunicorn, the worker and beat all got the parent-death signal.
            wait_for(lambda: not others_left(), timeout=15)

            # The next start attaches to the PostgreSQL left running, and this
            # time a SIGTERM stops it too (running_herald checks nothing is left).
            with running_herald(var_dir) as herald:
                assert requests.get(f"{herald.base_url}/api/v1/health", timeout=5).ok
        finally:
            if killed.poll() is None:
                killed.kill()
            kill_left_behind(var_dir, port, grace=0)
