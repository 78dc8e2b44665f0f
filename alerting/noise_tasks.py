"""Noise control's thin task, one tenant's tick, and how it is asked for."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from alerting.infra.celery import app

logger = logging.getLogger(__name__)

# Ticks asked for within this many seconds of each other are one tick.
TICK_SLOT_SECONDS = 5


@app.task(acks_late=True)
def noise_control_tick() -> int:
    """Runs in the schema of the tenant that scheduled it (tenant-schemas-celery)."""
    from alerting.noise_tick import noise_control_tick_run

    return noise_control_tick_run()


def noise_tick_schedule(*, at: datetime) -> None:
    """Ask for this tenant's tick at `at`, after commit; once per slot across processes."""
    slot = math.ceil(at.timestamp() / TICK_SLOT_SECONDS)
    key = f"herald:noise-tick:{connection.schema_name}:{slot}"

    def enqueue() -> None:
        delay = max(0.0, (at - timezone.now()).total_seconds())
        try:
            if cache.add(key, 1, timeout=int(delay) + 3600):
                noise_control_tick.apply_async(countdown=delay + TICK_SLOT_SECONDS / 2)
        except Exception as exc:  # broker or cache down: the next event asks again
            logger.warning("noise control tick not scheduled: %s", type(exc).__name__)

    transaction.on_commit(enqueue)
