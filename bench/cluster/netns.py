"""Hosts as network namespaces on one bridge, and the processes they run.

Each host is a namespace with its loopback and one veth whose other end is
plugged into a bridge that has no address of its own: hosts reach each other
on a private 10.x subnet, and nothing else (no default route, no address in
the machine's own namespace). Names carry the owner's PID, so a run killed
with SIGKILL is cleaned up by the next one (`stale_networks_remove`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

PREFIX = "hc"
SUBNET = "10.77.0"
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own arguments
        ["ip", *args], check=check, capture_output=True, text=True  # noqa: S607
    )


@dataclass
class Host:
    name: str  # short role: "pg", "web1"
    namespace: str
    address: str
    link: str  # the veth end on the bridge (machine side): unplugged to cut the host off
    processes: list[subprocess.Popen] = field(default_factory=list)


class Network:
    """One bridge and its hosts, all removed by close() (also after a failed start)."""

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag or str(os.getpid())
        self.bridge = f"{PREFIX}{self.tag}-br"
        self.hosts: dict[str, Host] = {}
        self._next = 2

    def open(self) -> Network:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("link", "set", self.bridge, "up")
        return self

    def host_add(self, name: str, last_octet: int | None = None) -> Host:
        octet = last_octet or self._next
        self._next = max(self._next, octet) + 1
        namespace = f"{PREFIX}{self.tag}-{name}"
        link = namespace  # at most 15 characters: hc<pid>-<role>
        if len(link) > 15:
            raise ValueError(f"interface name {link!r} is longer than 15 characters")
        ip("netns", "add", namespace)
        host = Host(name=name, namespace=namespace, address=f"{SUBNET}.{octet}", link=link)
        self.hosts[name] = host
        ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        ip("link", "set", link, "master", self.bridge, "up")
        for command in (
            ("link", "set", "lo", "up"),
            ("addr", "add", f"{host.address}/24", "dev", "eth0"),
            ("link", "set", "eth0", "up"),
        ):
            ip("-n", namespace, *command)
        return host

    def spawn(
        self, host: Host, command: list[str], *, env: dict[str, str], log: Path,
        user: str | None = None, cwd: Path | None = None,
    ) -> subprocess.Popen:
        """Start a process inside the host's namespace, its output in `log`."""
        prefix = ["ip", "netns", "exec", host.namespace]
        if user:
            prefix += ["runuser", "-u", user, "--"]
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                [*prefix, *command], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        host.processes.append(process)
        return process

    def pids(self, host: Host) -> list[int]:
        found = ip("netns", "pids", host.namespace, check=False).stdout.split()
        return [int(pid) for pid in found]

    def host_kill(self, host: Host, sig: int = signal.SIGKILL) -> None:
        """Every process in the host's namespace gets `sig`: the host is gone."""
        for pid in self.pids(host):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 20
        while self.pids(host) and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in host.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(1)
        host.processes = [p for p in host.processes if p.poll() is None]

    def unplug(self, host: Host) -> None:
        ip("link", "set", host.link, "down")

    def plug(self, host: Host) -> None:
        ip("link", "set", host.link, "up")

    def close(self) -> None:
        """Stop every process (TERM, then KILL), remove namespaces and the bridge."""
        for host in self.hosts.values():
            for pid in self.pids(host):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(self.pids(h) for h in self.hosts.values()):
            time.sleep(0.1)
        for host in self.hosts.values():
            self.host_kill(host)
            ip("netns", "del", host.namespace, check=False)
        ip("link", "del", self.bridge, check=False)
        self.hosts.clear()


def stale_networks_remove() -> list[str]:
    """Namespaces and bridges left by a run that died (its PID is gone)."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        owner = _owner(name)
        if owner is None or _alive(owner):
            continue
        for pid in ip("netns", "pids", name, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        ip("netns", "del", name, check=False)
        removed.append(name)
    for line in ip("-o", "link", "show", "type", "bridge", check=False).stdout.splitlines():
        name = line.split(":")[1].strip()
        owner = _owner(name)
        if owner is not None and not _alive(owner):
            ip("link", "del", name, check=False)
            removed.append(name)
    return removed


def _owner(name: str) -> int | None:
    head, _, _ = name.partition("-")
    if not head.startswith(PREFIX) or not head[len(PREFIX):].isdigit() or "-" not in name:
        return None
    return int(head[len(PREFIX):])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_namespace(host: Host, fn: Callable[[], T]) -> T:
    """Run fn in a thread of this process moved into the host's network namespace.

    A network namespace is per thread: sockets fn creates belong to the host,
    and the thread ends with fn, so nothing else in this process moves.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    result: dict[str, object] = {}

    def run() -> None:
        fd = os.open(f"/run/netns/{host.namespace}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed")
            result["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            result["error"] = exc
        finally:
            os.close(fd)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]


def port_wait(frm: Host, address: str, port: int, what: str, timeout: float = 60) -> float:
    """Seconds until `address:port` accepts a connection from host `frm`."""
    started = time.monotonic()

    def probe() -> float:
        while time.monotonic() - started < timeout:
            try:
                socket.create_connection((address, port), timeout=0.5).close()
                return time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{what} did not listen on {address}:{port} within {timeout:.0f} s")

    return in_namespace(frm, probe)
