"""Leased rate-limit tokens: a busy process takes several from the shared counter at once.

Counting every ingest request (and every delivery) in Redis costs a round
trip each, a tenth of a small webhook's work. A process instead takes a *lease* of
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

    def spend(self, now: float, cost: int) -> bool:
        """Count `cost` in this period; True if leased tokens pay for it."""
        elapsed = now - self.period_started_at
        if elapsed >= LEASE_SECONDS:
            # A quiet period in between: the last busy one says nothing of now.
            self.served_last_period = self.served if elapsed < 2 * LEASE_SECONDS else 0
            self.served, self.period_started_at = 0, now
        self.served += cost
        if self.tokens >= cost and now < self.expires_at:
            self.tokens -= cost
            return True
        return False


class LeasedLimiter:
    """`hit` as the shared limiter's, served from leases where it can (thread-safe)."""

    def __init__(self, shared: RateLimiter, *, clock=time.monotonic) -> None:
        self._shared = shared
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key = item.key_for(*identifiers)
        now = self._clock()
        with self._lock:
            lease = self._leases.setdefault(key, _Lease(period_started_at=now))
            if lease.spend(now, cost):
                return True
            size = max(cost, lease_size(limit=item.amount,
                                        served_last_period=lease.served_last_period))
        if size > cost and self._shared.hit(item, *identifiers, cost=size):
            with self._lock:
                lease.tokens, lease.expires_at = size - cost, now + LEASE_SECONDS
            return True
        return self._shared.hit(item, *identifiers, cost=cost)

    def get_window_stats(self, item: RateLimitItem, *identifiers: str):
        return self._shared.get_window_stats(item, *identifiers)

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        """Forget the shared counter and this process's lease of it."""
        with self._lock:
            self._leases.pop(item.key_for(*identifiers), None)
        self._shared.clear(item, *identifiers)
