"""Reads on receivers and notifications."""

from __future__ import annotations

from datetime import datetime

from receivers.models import Notification, NotificationState, Receiver


def receiver_list_enabled() -> list[Receiver]:
    return list(Receiver.objects.filter(enabled=True).order_by("name"))


def notification_ids_overdue(*, due_before: datetime) -> list[int]:
    """Notifications whose delivery task was lost (broker outage, killed worker).

    Pending ones past their due time, and sending ones whose lease ran out.
    """
    return list(
        Notification.objects.filter(
            state__in=[NotificationState.PENDING, NotificationState.SENDING],
            next_attempt_at__lt=due_before,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
