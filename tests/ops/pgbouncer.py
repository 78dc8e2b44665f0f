"""A PgBouncer of the test's own (Debian's package) in front of the test database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PGBOUNCER = "/usr/sbin/pgbouncer"
# PgBouncer refuses to run as root: it runs as the owner of the server's socket
# directory (the embedded server's own user), else as Debian's postgres user.
DEFAULT_USER = "postgres"


def run_as(host: str) -> str:
    folder = Path(host)
    return folder.owner() if host.startswith("/") and folder.is_dir() else DEFAULT_USER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Bouncer:
    port: int
    dbname: str
    user: str
    log: Path

    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={self.dbname} user={self.user}"


@contextmanager
def pgbouncer(
    *, host: str, port: str | int | None, dbname: str, user: str, pool_size: int = 2,
    pool_mode: str = "transaction",
) -> Iterator[Bouncer]:
    """PgBouncer on a free loopback port, `pool_size` server connections at most."""
    folder = Path(tempfile.mkdtemp(prefix="herald-pgbouncer-"))
    folder.chmod(0o755)
    listen = free_port()
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
{dbname} = host={host} port={port or 5432} dbname={dbname} user={user}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
admin_users = {user}
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    owner = run_as(host)
    shutil.chown(folder, owner)
    for name in ("pgbouncer.ini", "users.txt"):
        shutil.chown(folder / name, owner)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command = ["runuser", "-u", owner, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise RuntimeError(
                        "pgbouncer did not start: " + (log.read_text() if log.exists() else "")
                    ) from None
                time.sleep(0.05)
        yield Bouncer(port=listen, dbname=dbname, user=user, log=folder / "pgbouncer.log")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
