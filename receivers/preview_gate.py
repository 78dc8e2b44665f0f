"""Who may render a live preview now: a rate per user, and a cap on previews at once.

A preview renders a template someone is still writing, so it may well hit
the limits; even bounded, previews must never occupy the web processes that
serve ingest. The cap holds across every web process and host: a preview
takes one of HERALD_TEMPLATE_PREVIEW_CONCURRENCY PostgreSQL advisory locks
without waiting, and a preview that finds none free is answered 429 at once.
The locks are transaction-level, held by a transaction around the render: a
session-level lock breaks behind PgBouncer in transaction mode (its unlock may
reach another server connection; docs/operating.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from alerting.infra.rate_limits import rate_item, shared_limiter

# The first key of the advisory locks (the second is the slot): "HRLD".
_PREVIEW_LOCKS = 0x48524C44


@dataclass(frozen=True)
class PreviewRefused(Exception):
    reason: str
    retry_after: int


def preview_rate_take(*, user_id: int) -> None:
    """Count one preview for the user, or raise PreviewRefused when over the rate."""
    item = rate_item(settings.HERALD_TEMPLATE_PREVIEW_RATE_LIMIT)
    limiter = shared_limiter()
    try:
        allowed = limiter.hit(item, "template-preview", str(user_id))
    except Exception:  # any storage failure (redis-py raises many types): fail open
        return
    if not allowed:
        raise PreviewRefused("Too many previews; wait a moment.", retry_after=5)


@contextmanager
def preview_slot() -> Iterator[None]:
    """Hold one of the web tier's preview slots while rendering, or raise PreviewRefused."""
    slots = max(1, settings.HERALD_TEMPLATE_PREVIEW_CONCURRENCY)
    with transaction.atomic():
        with connection.cursor() as cursor:
            for slot in range(slots):
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_PREVIEW_LOCKS, slot])
                if cursor.fetchone()[0]:
                    break
            else:
                raise PreviewRefused(
                    "Other previews are rendering; trying again.", retry_after=1
                )
        yield  # the slot is given back when this transaction ends
