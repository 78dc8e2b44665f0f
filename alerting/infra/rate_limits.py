"""The one sliding-window rate limiter that every process shares.

Counters live in HERALD_RATE_LIMIT_STORAGE_URL (the broker's Redis by
default), so all web and worker processes count together. Callers fail open
when the store is down.
"""

from __future__ import annotations

import threading
from functools import cache

import redis  # noqa: F401 - `limits` imports it lazily, which races between threads
from django.conf import settings
from limits import RateLimitItem, parse, storage, strategies

from alerting.infra.rate_lease import LeasedLimiter

_limiters: dict[str, strategies.SlidingWindowCounterRateLimiter] = {}
_leased: dict[str, LeasedLimiter] = {}
_lock = threading.Lock()


def shared_limiter() -> strategies.SlidingWindowCounterRateLimiter:
    """The limiter for the configured store, built once per process (thread-safe)."""
    url = settings.HERALD_RATE_LIMIT_STORAGE_URL
    limiter = _limiters.get(url)
    if limiter is None:
        with _lock:
            limiter = _limiters.get(url) or strategies.SlidingWindowCounterRateLimiter(
                storage.storage_from_string(url)
            )
            _limiters[url] = limiter
    return limiter


def leased_limiter() -> LeasedLimiter:
    """The shared limiter, spent through this process's leases (alerting.infra.rate_lease)."""
    url = settings.HERALD_RATE_LIMIT_STORAGE_URL
    limiter = _leased.get(url)
    if limiter is None:
        shared = shared_limiter()
        with _lock:
            limiter = _leased.setdefault(url, LeasedLimiter(shared))
    return limiter


@cache
def rate_item(text: str) -> RateLimitItem:
    """A rate such as "100/second" or "6000/minute"."""
    return parse(text)
