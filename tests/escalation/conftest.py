"""Escalation tests run on a frozen clock: a Monday morning, moved only by the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
