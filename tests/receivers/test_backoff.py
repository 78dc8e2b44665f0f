"""Retry delays: exponential with full jitter, capped, and Retry-After honoured."""

from receivers.delivery.backoff import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    retry_delay_seconds,
)


def test_delays_stay_within_an_exponentially_growing_window():
    for attempt in range(1, 8):
        window = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        delays = [retry_delay_seconds(attempt=attempt) for _ in range(200)]
        assert all(0 <= delay <= window for delay in delays)
        assert len(set(delays)) > 1, "full jitter spreads retries out"


def test_delays_never_exceed_the_cap():
    assert max(retry_delay_seconds(attempt=30) for _ in range(200)) <= BACKOFF_CAP_SECONDS


def test_a_longer_retry_after_wins_over_the_backoff():
    assert retry_delay_seconds(attempt=1, retry_after=120) == 120


def test_retry_after_is_capped_too():
    assert retry_delay_seconds(attempt=1, retry_after=86_400) == BACKOFF_CAP_SECONDS


def test_an_operator_can_shorten_the_wait_below_a_second():
    delays = [retry_delay_seconds(attempt=3, base=0.25) for _ in range(200)]
    assert all(0 <= delay <= 1.0 for delay in delays)
    assert any(0 < delay < 1 for delay in delays)  # fractions of a second, not whole ones
