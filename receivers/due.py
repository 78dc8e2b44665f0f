"""The notification sweep's entry in the due-work index (tenants/due_work.py).

The sweep re-enqueues a pending (or leased) notification once its
next_attempt_at is HERALD_SWEEP_PENDING_AFTER_SECONDS old. The entry holds the
earliest next_attempt_at (the tick adds the grace, tenants.due_ticks.claim_lag).
Every enqueue (first attempts, retries, a runner's wake-up) notes its own
time, the enqueue being when a task could be lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from receivers.delivery import notification_sweep
from receivers.models import Notification, NotificationState
from tenants.due_work import due_work_note
from tenants.models_due import DueKind


def notifications_due_note(*, countdown: float | None = None,
                           wake_channel: str | None = None) -> None:
    """Tasks were just enqueued (or are owed) for this tenant: sweep them if they get lost.

    With `wake_channel`, the same statement wakes the listening relay.
    """
    due_work_note(
        kind=DueKind.NOTIFICATIONS,
        due_at=timezone.now() + timedelta(seconds=countdown or 0),
        notify_channel=wake_channel,
    )


def notifications_due_run() -> int:
    return len(notification_sweep())


def notifications_next_due_at(*, now: datetime) -> datetime | None:
    return Notification.objects.filter(
        state__in=[NotificationState.PENDING, NotificationState.SENDING]
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
