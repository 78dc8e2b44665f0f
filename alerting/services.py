"""Writes on alert groups beyond ingest: acknowledge, resolve by hand."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone

from alerting.ingest import notified_alert
from alerting.models import AlertGroup, AlertStatus
from receivers.selectors import receivers_notified_of
from receivers.services import notification_bulk_create, notifications_enqueue


class AlertGroupActionError(Exception):
    """The action does not apply to the group in its current state."""


def alert_group_acknowledge(*, alert_group_id: int, by: str) -> AlertGroup:
    """Record that someone is on it. Acknowledging twice keeps the first."""
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError("The alert group is resolved already.")
        if group.acknowledged_at is None:
            group.acknowledged_at = timezone.now()
            group.acknowledged_by = by
            group.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return group


def alert_group_resolve(*, alert_group_id: int, by: str) -> AlertGroup:
    """Resolve a group by hand and tell the receivers that heard of it, and only those.

    If Alertmanager later reports the alerts firing again, that is a new state
    and notifies as such.
    """
    now = timezone.now()
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError("The alert group is resolved already.")
        firing = list(group.alerts.filter(status=AlertStatus.FIRING))
        for alert in firing:
            alert.previous_status, alert.previous_starts_at = alert.status, alert.starts_at
            alert.status, alert.ends_at, alert.last_seen_at = AlertStatus.RESOLVED, now, now
        group.alerts.bulk_update(
            firing, ["status", "ends_at", "last_seen_at", "previous_status", "previous_starts_at"]
        )
        group.status, group.resolved_at, group.resolved_by = AlertStatus.RESOLVED, now, by
        group.resolved_count += group.firing_count
        group.firing_count = 0
        group.save(
            update_fields=["status", "resolved_at", "resolved_by", "firing_count", "resolved_count"]
        )
        notification_ids = notification_bulk_create(
            alert_group=group,
            receivers=receivers_notified_of(alert_group_id=group.id),
            status=AlertStatus.RESOLVED,
            alerts=[
                notified_alert(
                    status=alert.status,
                    labels=alert.labels,
                    annotations=alert.annotations,
                    starts_at=alert.starts_at,
                    ends_at=alert.ends_at,
                    generator_url=alert.generator_url,
                    fingerprint=alert.fingerprint,
                )
                for alert in firing
            ],
        )
        if notification_ids:
            transaction.on_commit(partial(notifications_enqueue, notification_ids=notification_ids))
    return group
