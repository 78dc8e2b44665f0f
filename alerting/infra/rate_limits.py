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

_limiters: dict[str, strategies.SlidingWindowCounterRateLimiter] = {}
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


@cache
def rate_item(text: str) -> RateLimitItem:
    """A rate such as "100/second" or "6000/minute"."""
    return parse(text)
