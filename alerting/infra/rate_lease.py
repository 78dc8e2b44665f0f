"""Leased rate-limit tokens: a busy web process takes several from the shared counter at once.

Counting every ingest request in Redis costs a round trip per request, a
tenth of a small webhook's work. A process instead takes a *lease* of
tokens from the shared sliding window in one hit (`cost=n`) and spends
them locally for up to `LEASE_SECONDS`. The lease is sized by what the
process served in its previous period, and never more than 1 % of the
limit, so:

- nothing is ever admitted that the shared window did not count first (a
  lease is counted before its tokens are spent): the limit is never exceeded;
- what a lease leaves unspent when it expires still counts in the window: at
  worst each process wastes one lease (at most 1 % of the limit) per period;
- a process at a few requests a second leases one token at a time: exact;
- near the limit, a lease the window refuses falls back to a single token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.strategies import RateLimiter

LEASE_SECONDS = 1.0
LEASE_SHARE_OF_LIMIT = 100  # a lease is at most 1/100 of the limit


def lease_size(*, limit: int, served_last_period: int) -> int:
    """How many tokens to take at once: last period's use, at most 1 % of the limit."""
    return max(1, min(limit // LEASE_SHARE_OF_LIMIT, served_last_period))


@dataclass
class _Lease:
    tokens: int = 0
    expires_at: float = 0.0
    period_started_at: float = 0.0
    served: int = 0
    served_last_period: int = 0

    def spend(self, now: float) -> bool:
        """Count a request in this period; True if a leased token pays for it."""
        elapsed = now - self.period_started_at
        if elapsed >= LEASE_SECONDS:
            # A quiet period in between: the last busy one says nothing of now.
            self.served_last_period = self.served if elapsed < 2 * LEASE_SECONDS else 0
            self.served, self.period_started_at = 0, now
        self.served += 1
        if self.tokens > 0 and now < self.expires_at:
            self.tokens -= 1
            return True
        return False


class LeasedLimiter:
    """`hit` as the shared limiter's, served from leases where it can (thread-safe)."""

    def __init__(self, shared: RateLimiter, *, clock=time.monotonic) -> None:
        self._shared = shared
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        key = item.key_for(*identifiers)
        now = self._clock()
        with self._lock:
            lease = self._leases.setdefault(key, _Lease(period_started_at=now))
            if lease.spend(now):
                return True
            size = lease_size(limit=item.amount, served_last_period=lease.served_last_period)
        if size > 1 and self._shared.hit(item, *identifiers, cost=size):
            with self._lock:
                lease.tokens, lease.expires_at = size - 1, now + LEASE_SECONDS
            return True
        return self._shared.hit(item, *identifiers)

    def get_window_stats(self, item: RateLimitItem, *identifiers: str):
        return self._shared.get_window_stats(item, *identifiers)
