"""Reads on receivers and notifications."""

from __future__ import annotations

from datetime import datetime

from receivers.models import MessageTemplate, Notification, NotificationState, Receiver


def receiver_list_enabled() -> list[Receiver]:
    """Enabled receivers, without their secrets (not decrypted on the ingest path)."""
    return list(Receiver.objects.filter(enabled=True).only("id", "name", "kind").order_by("name"))


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


def receivers_notified_of(*, alert_group_id: int) -> list[Receiver]:
    """Enabled receivers that were sent (or owed) a notification about the group."""
    return list(
        Receiver.objects.filter(enabled=True, notifications__alert_group_id=alert_group_id)
        .distinct()
        .order_by("name")
    )


def notification_list_for_group(*, alert_group_id: int) -> list[Notification]:
    return list(
        Notification.objects.filter(alert_group_id=alert_group_id)
        .prefetch_related("delivery_attempts")
        .order_by("created_at", "id")
    )


def message_template_sources(*, channel: str) -> dict[tuple[str, str], str]:
    """The tenant's template overrides for a channel: (language, part) -> source."""
    return {
        (language, part): source
        for language, part, source in MessageTemplate.objects.filter(channel=channel).values_list(
            "language", "part", "source"
        )
    }
