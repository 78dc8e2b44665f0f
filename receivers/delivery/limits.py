"""Delivery rate limits per tenant and per receiver, counted where every worker sees them.

Sliding-window counters from `limits` in the broker's Redis (or
HERALD_RATE_LIMIT_STORAGE_URL), spent through leases. Fails open: a counter store that is down
must not hold up pages.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from alerting.infra.rate_limits import leased_limiter, rate_item

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    wait_seconds: float = 0.0  # when refused: until the window lets one more through


def receiver_rate_key(receiver) -> str:
    """The receiver's counter key; with its creation time, a re-created receiver starts afresh."""
    return f"{receiver.pk}.{receiver.created_at.timestamp():.6f}"


def delivery_rate_take(
    *, tenant_key: str, receiver_key: str, receiver_rate: str, count: int = 1
) -> RateDecision:
    """Take `count` messages from the tenant's and the receiver's allowance, if both have them."""
    checks = [
        (rate_item(settings.HERALD_TENANT_DELIVERY_RATE_LIMIT), "tenant", tenant_key),
        (rate_item(receiver_rate or settings.HERALD_RECEIVER_RATE_LIMIT), "receiver", receiver_key),
    ]
    try:
        limiter = leased_limiter()
        for rate, scope, key in checks:
            # Through this process's leases (alerting.infra.rate_lease): a round
            # trip each only when a lease runs out. A message refused by the
            # receiver's limit has used one of the tenant's: errs on the side of fewer.
            if not limiter.hit(rate, "delivery", scope, key, cost=count):
                stats = limiter.get_window_stats(rate, "delivery", scope, key)
                wait = max(0.5, stats.reset_time - time.time())
                return RateDecision(allowed=False, wait_seconds=wait)
    except Exception as exc:  # any storage failure: redis-py raises many types
        logger.warning("delivery rate limit not enforced: %s", type(exc).__name__)
    return RateDecision(allowed=True)


def rate_limits_reset(*, tenant_key: str, receiver_key: str, receiver_rate: str) -> None:
    """Forget the counters (tests, and an operator who raised a limit)."""
    limiter = leased_limiter()
    for rate, scope, key in (
        (rate_item(settings.HERALD_TENANT_DELIVERY_RATE_LIMIT), "tenant", tenant_key),
        (rate_item(receiver_rate or settings.HERALD_RECEIVER_RATE_LIMIT), "receiver", receiver_key),
    ):
        limiter.clear(rate, "delivery", scope, key)
