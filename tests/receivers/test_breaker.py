"""Circuit-breaker decisions, without a database: closed, open, half-open, one probe."""

from datetime import UTC, datetime, timedelta

from receivers.delivery.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    Breaker,
    breaker_admit,
    breaker_failed,
    breaker_health,
    breaker_succeeded,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def admit(breaker, now=NOW):
    return breaker_admit(breaker, now=now, cooldown_seconds=60, probe_lease_seconds=25)


def test_a_closed_circuit_admits_and_counts_failures_until_the_threshold():
    breaker = Breaker()
    for _ in range(2):
        assert admit(breaker).allowed
        breaker = breaker_failed(breaker, now=NOW, threshold=3)
        assert breaker.state == CLOSED
    breaker = breaker_failed(breaker, now=NOW, threshold=3)
    assert (breaker.state, breaker.consecutive_failures, breaker.opened_at) == (OPEN, 3, NOW)


def test_a_success_resets_the_count():
    breaker = breaker_failed(Breaker(), now=NOW, threshold=3)
    assert breaker_succeeded(breaker) == Breaker()


def test_an_open_circuit_refuses_until_the_cool_down_has_passed():
    breaker = Breaker(state=OPEN, consecutive_failures=3, opened_at=NOW)
    refused = admit(breaker, NOW + timedelta(seconds=20))
    assert not refused.allowed
    assert refused.wait_seconds == 40
    assert not refused.awaiting_probe


def test_after_the_cool_down_exactly_one_probe_goes_through():
    breaker = Breaker(state=OPEN, consecutive_failures=3, opened_at=NOW)
    later = NOW + timedelta(seconds=61)
    probe = admit(breaker, later)
    assert probe.allowed and probe.probe
    assert (probe.breaker.state, probe.breaker.probe_started_at) == (HALF_OPEN, later)
    second = admit(probe.breaker, later + timedelta(seconds=1))
    assert not second.allowed
    assert second.wait_seconds == 24
    assert second.awaiting_probe  # the others wait for the probe, they don't fail over


def test_a_probe_whose_worker_died_is_replaced_after_its_lease():
    breaker = Breaker(state=HALF_OPEN, consecutive_failures=3, probe_started_at=NOW)
    assert admit(breaker, NOW + timedelta(seconds=26)).probe


def test_the_probe_closes_on_success_and_reopens_on_failure():
    half_open = Breaker(state=HALF_OPEN, consecutive_failures=3, probe_started_at=NOW)
    assert breaker_succeeded(half_open).state == CLOSED
    reopened = breaker_failed(half_open, now=NOW, threshold=10)
    assert (reopened.state, reopened.opened_at) == (OPEN, NOW)


def test_health_values():
    assert [breaker_health(s) for s in (CLOSED, HALF_OPEN, OPEN)] == [1.0, 0.5, 0.0]
