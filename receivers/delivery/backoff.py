"""When to try a failed delivery again (pure)."""

from __future__ import annotations

import random

BACKOFF_BASE_SECONDS = 2  # the default of HERALD_DELIVERY_BACKOFF_BASE_SECONDS
BACKOFF_CAP_SECONDS = 600


def retry_delay_seconds(
    *, attempt: int, retry_after: float | None = None, base: float = BACKOFF_BASE_SECONDS
) -> float:
    """Exponential backoff with full jitter, capped; a vendor's Retry-After wins if longer.

    Attempt n waits a random time up to `base` * 2^(n-1) seconds.
    """
    # Full jitter (uniform over the window), not Celery's helper: it draws whole
    # seconds only, so a base under a second would never wait at all. (Spreading
    # retries, not a secret: no cryptographic randomness needed.)
    delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, base * 2 ** max(0, attempt - 1)))  # noqa: S311
    if retry_after is not None:
        delay = max(delay, min(retry_after, BACKOFF_CAP_SECONDS))
    return delay
