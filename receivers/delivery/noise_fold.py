"""Alerts an alert storm folds (alerting.noise): straight into each receiver's open digest.

The digest is the one a rate limit folds into (receivers.delivery.reroute):
one open digest per receiver, sent when its wait is over, then the next
folded alert opens another. No notification is written per alert: in a
storm that is the point.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from alerting.models import AlertGroup
from receivers.delivery.digest import alerts_merge
from receivers.delivery.outbox import notifications_enqueue
from receivers.models import Notification, NotificationState, Receiver


def alerts_fold_into_digests(
    *,
    alert_group: AlertGroup,
    targets: dict[int, list[dict[str, Any]]],
    wait: float,
    now: datetime,
) -> list[int]:
    """Carry each receiver's alerts in its open digest (made if none); the digests' ids."""
    ids: list[int] = []
    receivers = {
        receiver.id: receiver
        # The receivers' locks make workers and ingests agree on one open digest each.
        for receiver in Receiver.objects.select_for_update().filter(
            id__in=[receiver_id for receiver_id, alerts in targets.items() if alerts]
        ).order_by("id")
    }
    created: list[int] = []
    for receiver_id, receiver in receivers.items():
        alerts = targets[receiver_id]
        digest = (
            Notification.objects.select_for_update()
            .filter(receiver_id=receiver_id, is_digest=True,
                    state=NotificationState.PENDING, attempts=0)
            .first()
        )
        if digest is None:
            digest = Notification(
                receiver=receiver, receiver_name=receiver.name, channel=receiver.kind,
                alert_group=alert_group, status="resolved", alerts=[], is_digest=True,
                incident=alert_group.incident, created_at=now,
                next_attempt_at=now + timedelta(seconds=wait),
            )
        digest.alerts = alerts_merge([digest.alerts, alerts])
        if any(alert.get("status") == "firing" for alert in alerts):
            digest.status = "firing"
        is_new = digest.pk is None
        digest.folded_count += len(alerts)
        digest.save()
        ids.append(digest.id)
        if is_new:
            created.append(digest.id)
    if created:
        transaction.on_commit(
            lambda: notifications_enqueue(notification_ids=created, countdown=wait)
        )
    return ids
