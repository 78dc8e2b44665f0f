"""The outbound guard's tests: every one jailed to loopback, every name from a fake resolver."""

from __future__ import annotations

import pytest

from tests.receivers.outbound_jail import Jail, Resolver, jail_install, resolver_install


@pytest.fixture(autouse=True)
def jail(monkeypatch) -> Jail:
    return jail_install(monkeypatch)


@pytest.fixture(autouse=True)
def resolver(monkeypatch) -> Resolver:
    return resolver_install(monkeypatch)
