"""The claim's rules (pure): what a batch may send at once, and what must be decided one by one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from receivers.delivery.rules import ClaimFacts, needs_no_decision, too_old

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FRESH = ClaimFacts(
    state="pending",
    next_attempt_at=NOW,
    is_digest=False,
    receiver_enabled=True,
    attempts=0,
    created_at=NOW - timedelta(seconds=30),
    max_age_seconds=3600,
    acknowledgement=False,
    circuit_state=None,
    window_sibling=False,
)


def test_a_fresh_pending_notification_to_a_healthy_receiver_goes_in_the_batch():
    assert needs_no_decision(FRESH, now=NOW)
    assert needs_no_decision(replace(FRESH, circuit_state="closed"), now=NOW)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"state": "sending"}, "leased by another worker"),
        ({"state": "delivered"}, "final"),
        ({"is_digest": True}, "a digest waits for its window"),
        ({"receiver_enabled": False}, "its receiver is disabled"),
        ({"attempts": 2, "created_at": NOW - timedelta(hours=2)}, "past the receiver's max age"),
        ({"circuit_state": "open"}, "the circuit is open: fail over or wait"),
        ({"circuit_state": "half_open"}, "a probe decides"),
        ({"window_sibling": True}, "the grouping window may hold it"),
    ],
)
def test_anything_that_needs_a_decision_is_left_to_the_one_by_one_claim(change, why):
    assert not needs_no_decision(replace(FRESH, **change), now=NOW), why


def test_a_first_attempt_is_made_however_old_and_an_acknowledgement_is_never_held(settings):
    assert needs_no_decision(replace(FRESH, created_at=NOW - timedelta(days=2)), now=NOW)
    assert needs_no_decision(replace(FRESH, window_sibling=True, acknowledgement=True), now=NOW)
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # no window: an earlier sibling still holds it
    assert not needs_no_decision(replace(FRESH, window_sibling=True), now=NOW)


def test_a_task_that_comes_before_its_notification_is_due_leaves_it_alone():
    later = replace(FRESH, next_attempt_at=NOW + timedelta(seconds=30))
    assert not needs_no_decision(later, now=NOW, only_due=True)
    assert needs_no_decision(later, now=NOW)  # asked directly (retry now, tests): sent
    almost = replace(FRESH, next_attempt_at=NOW + timedelta(milliseconds=500))
    assert needs_no_decision(almost, now=NOW, only_due=True)  # another host's clock


def test_too_old_is_at_the_max_age_exactly():
    created = NOW - timedelta(seconds=60)
    assert too_old(created_at=created, max_age_seconds=60, now=NOW)
    assert not too_old(created_at=created, max_age_seconds=61, now=NOW)
