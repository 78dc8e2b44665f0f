"""Leased ingest tokens: fewer trips to the shared counter, never over the limit.

The shared side is the `limits` library's own sliding window (in memory here,
Redis in production); the clock is controlled.
"""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from alerting.infra.rate_lease import LEASE_SECONDS, LeasedLimiter, lease_size


class _CountingLimiter(SlidingWindowCounterRateLimiter):
    """The library's limiter, counting how often it is asked (the round trips)."""

    asked = 0

    def hit(self, item, *identifiers, cost=1):
        self.asked += 1
        return super().hit(item, *identifiers, cost=cost)


class _Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter():
    shared = _CountingLimiter(MemoryStorage())
    clock = _Clock()
    return shared, clock, LeasedLimiter(shared, clock=clock)


def test_a_lease_is_what_the_last_period_used_capped_at_one_percent_of_the_limit():
    assert lease_size(limit=6000, served_last_period=0) == 1
    assert lease_size(limit=6000, served_last_period=12) == 12
    assert lease_size(limit=6000, served_last_period=5000) == 60
    assert lease_size(limit=50, served_last_period=40) == 1  # small limits stay exact


def test_a_busy_process_asks_the_shared_counter_a_few_times_a_second_not_per_request():
    shared, clock, leased = _limiter()
    rate = parse("600000/minute")
    for second in range(3):
        for request in range(500):
            clock.now = 1000.0 + second * LEASE_SECONDS + request / 1000
            assert leased.hit(rate, "ingest", "tenant:1")

    # The first second token by token, then leases of 500 (under 1 % of 600,000).
    assert shared.asked < 500 + 10


def test_leases_never_admit_more_than_the_limit():
    _shared, clock, leased = _limiter()
    rate = parse("1000/minute")
    admitted = 0
    for request in range(3000):
        clock.now = 1000.0 + request / 100  # 100 a second for 30 s, inside one window
        admitted += leased.hit(rate, "ingest", "tenant:1")

    assert admitted <= 1000
    # What leases leave unspent is bounded: one lease of at most 10 per second.
    assert admitted >= 1000 - 10 * 30


def test_a_quiet_tenant_is_counted_exactly():
    shared, clock, leased = _limiter()
    rate = parse("3/minute")
    answers = []
    for request in range(5):
        clock.now = 1000.0 + request * 2
        answers.append(leased.hit(rate, "ingest", "tenant:1"))

    assert answers == [True, True, True, False, False]
    assert shared.asked == 5


def test_a_batch_spends_as_many_tokens_as_it_has_messages():
    _shared, clock, leased = _limiter()
    rate = parse("20/minute")
    answers = []
    for batch in range(5):
        clock.now = 1000.0 + batch
        answers.append(leased.hit(rate, "delivery", "tenant", "t1", cost=5))

    assert answers == [True, True, True, True, False]
