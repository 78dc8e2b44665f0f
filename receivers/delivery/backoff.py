"""When to try a failed delivery again (pure)."""

from __future__ import annotations

from celery.utils.time import get_exponential_backoff_interval

BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 600


def retry_delay_seconds(*, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, capped; a vendor's Retry-After wins if longer."""
    delay = get_exponential_backoff_interval(
        factor=BACKOFF_BASE_SECONDS,
        retries=max(0, attempt - 1),
        maximum=BACKOFF_CAP_SECONDS,
        full_jitter=True,
    )
    if retry_after is not None:
        delay = max(delay, min(retry_after, BACKOFF_CAP_SECONDS))
    return delay
