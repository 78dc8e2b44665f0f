"""Per-tenant ingest rate limit, counted in storage shared by every web process."""

from __future__ import annotations

import logging
import threading
import time
from functools import cache

import redis  # noqa: F401 - `limits` imports it lazily, which races between threads
from django.conf import settings
from limits import RateLimitItem, parse, storage, strategies
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_limiters: dict[str, strategies.SlidingWindowCounterRateLimiter] = {}
_limiters_lock = threading.Lock()


def _limiter(storage_url: str) -> strategies.SlidingWindowCounterRateLimiter:
    limiter = _limiters.get(storage_url)
    if limiter is None:
        with _limiters_lock:
            limiter = _limiters.get(storage_url) or strategies.SlidingWindowCounterRateLimiter(
                storage.storage_from_string(storage_url)
            )
            _limiters[storage_url] = limiter
    return limiter


@cache
def _rate(text: str) -> RateLimitItem:
    return parse(text)


class TenantIngestThrottle(BaseThrottle):
    """429 once a tenant exceeds its ingest rate (requests per window).

    Fails open: if the counter storage is down, ingest goes on (and says so in
    the log) rather than refusing alerts.
    """

    def allow_request(self, request, view) -> bool:
        tenant = request.auth
        if tenant is None:
            return True
        self.rate = _rate(tenant.ingest_rate_limit or settings.HERALD_INGEST_RATE_LIMIT)
        self.key = f"tenant:{tenant.pk}"
        try:
            self.limiter = _limiter(settings.HERALD_RATE_LIMIT_STORAGE_URL)
            return self.limiter.hit(self.rate, "ingest", self.key)
        except Exception as exc:  # any storage failure: redis-py raises many types
            logger.warning("ingest rate limit not enforced: %s", type(exc).__name__)
            return True

    def wait(self) -> float | None:
        try:
            stats = self.limiter.get_window_stats(self.rate, "ingest", self.key)
        except Exception:  # the 429 stands; only the hint is lost
            return None
        return max(1.0, stats.reset_time - time.time())
