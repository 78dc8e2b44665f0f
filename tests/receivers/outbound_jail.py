"""Jailed tests: connections only to loopback, names only from a fake resolver.

`jail` wraps `socket.socket.connect` and `connect_ex` for the test's duration:
any address that is not loopback raises (ENETUNREACH) and is recorded, so a
guard that is wrong fails the test instead of reaching the network. `resolver`
answers made-up names (one answer list per lookup, the last repeating) and
localhost; any other name does not resolve, so no DNS query leaves the test.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass, field

import pytest

PUBLIC = "93.184.216.34"  # a public address, never reached: the jail refuses it


@dataclass
class Jail:
    refused: list[tuple] = field(default_factory=list)

    def allows(self, sock: socket.socket, address) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # unix sockets: the broker, never the network
        try:
            ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        except ValueError:
            return False  # a name: the code under test should have resolved it
        mapped = getattr(ip, "ipv4_mapped", None)
        return ip.is_loopback or bool(mapped and mapped.is_loopback)


def jail_install(monkeypatch: pytest.MonkeyPatch) -> Jail:
    """Jail this test's connections to loopback (undone with `monkeypatch`)."""
    jail = Jail()
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def jailed_connect(sock, address):
        if not jail.allows(sock, address):
            jail.refused.append(tuple(address[:2]))
            raise OSError(errno.ENETUNREACH, "jailed: only loopback is reachable in tests")
        return connect(sock, address)

    def jailed_connect_ex(sock, address):
        if not jail.allows(sock, address):
            jail.refused.append(tuple(address[:2]))
            return errno.ENETUNREACH
        return connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", jailed_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", jailed_connect_ex)
    return jail


@dataclass
class Resolver:
    """Made-up names and their answers, one list per lookup (the last one repeats)."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def answer(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def count(self, name: str) -> int:
        return self.lookups.count(name)


def resolver_install(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    """Answer this test's lookups from a fake resolver (undone with `monkeypatch`)."""
    resolver = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        resolver.lookups.append(name)
        if name in resolver.answers:
            queue = resolver.answers[name]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM,
                 socket.IPPROTO_TCP, "", (a, port) if ":" not in a else (a, port, 0, 0))
                for a in addresses
            ]
        if name.rstrip(".").lower() == "localhost":
            return real("127.0.0.1", port, family, type, proto, flags)
        try:
            ipaddress.ip_address(name)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, port, family, type, proto, flags)  # a literal: no query

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolver


def offline_resolver_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS query leaves the suite: made-up names answer PUBLIC, `.invalid` none.

    Literals and localhost go to the system's own resolver, which answers them
    without a query.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).rstrip(".")
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            pass
        else:
            return real(host, port, family, type, proto, flags)
        if not name or name.lower() == "localhost" or name.lower().endswith(".localhost"):
            return real(host, port, family, type, proto, flags)
        if name.lower().endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (PUBLIC, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
