"""The embedded Redis: it dies with its owner, and a leftover never blocks a start.

Real redis-server processes in a folder of the test's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis
from django.conf import settings

from alerting.infra.embedded import EmbeddedRedis
from tests.conftest import wait_for
from tests.runherald import still_running


def _answers(server: EmbeddedRedis) -> bool:
    client = redis.Redis(unix_socket_path=str(server.socket), socket_timeout=2)
    try:
        return client.ping()
    finally:
        client.close()


def _gone(pid: int) -> bool:
    try:
        return not still_running([psutil.Process(pid)])
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def var_dir(tmp_path) -> Path:
    return tmp_path  # short enough for a unix socket path


def test_a_server_whose_owner_has_gone_is_stopped_by_the_next_start(var_dir):
    first = EmbeddedRedis(var_dir).start()
    leftover = first.process.pid
    # As if its owner had died without the parent-death signal (not Linux, say).
    record = json.loads(first.pidfile.read_text())
    first.pidfile.write_text(json.dumps({**record, "owner_started": 0}))
    second = EmbeddedRedis(var_dir)
    try:
        second.start()
        wait_for(lambda: _gone(leftover), timeout=5)
        assert _answers(second)
        assert json.loads(second.pidfile.read_text())["pid"] == second.process.pid
    finally:
        second.stop()
        first.stop()
    assert not second.pidfile.exists()


def test_a_server_whose_owner_still_runs_is_left_alone(var_dir):
    first = EmbeddedRedis(var_dir).start()
    try:
        with pytest.raises(RuntimeError, match="belongs to running process"):
            EmbeddedRedis(var_dir).start()
        assert _answers(first)
    finally:
        first.stop()


def test_a_sigkilled_owner_takes_its_redis_along(var_dir):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from alerting.infra.embedded import EmbeddedRedis\n"
        f"server = EmbeddedRedis(Path({str(var_dir)!r})).start()\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
    )
    server_pid = None
    try:
        server_pid = int(owner.stdout.readline())
        assert not _gone(server_pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        wait_for(lambda: _gone(server_pid), timeout=5)
        # The next start finds the record of a dead owner and starts afresh.
        again = EmbeddedRedis(var_dir).start()
        try:
            assert _answers(again)
        finally:
            again.stop()
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.stdout.close()
        if server_pid is not None and not _gone(server_pid):
            psutil.Process(server_pid).kill()
