"""A firing group paged to Alice by email, and the members who may or may not act on it."""

from __future__ import annotations

import pytest

from tests.escalation.paging.conftest import carrier, fire, policy_with, tick
from tests.factories import PersonFactory

__all__ = ["carrier", "fire"]


@pytest.fixture
def paged(alpha, carrier, fire, clock):
    """A group whose policy paged Alice (an auditor) at once; returns (group, alice)."""
    alice = PersonFactory(user__username="alice", display_name="Alice", email="alice@example.com")
    group = fire(escalation_policy=policy_with([
        (0, [{"kind": "person", "person": alice}]),
        (30, [{"kind": "receiver", "receiver": carrier}]),
    ]))
    tick()
    group.refresh_from_db()
    return group, alice


@pytest.fixture
def editor(alpha):
    return PersonFactory(user__username="erin", display_name="Erin", membership="editor")


@pytest.fixture
def auditor(alpha):
    return PersonFactory(user__username="otto", display_name="Otto", membership="auditor")
