"""Delivery of many notifications at once, on the common path.

A backlog (an alert storm, the sweep after an outage, one incident told to
several receivers) costs one claim, one record and concurrent sends for the
whole batch, instead of a lock and a dozen statements per notification.

Only notifications that need no decision take this path: pending, not a
digest, their receiver enabled with a closed circuit, nothing else of their
group held for the same receiver (the grouping window), and within the rate
limits. Everything else goes one by one through `notification_deliver`,
which owns those decisions, so both paths behave the same.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from receivers.models import Notification, NotificationState, Receiver
from receivers.ratelimit import delivery_rate_take, receiver_rate_key
from receivers.sending import Sends, sends_run
from receivers.services.delivery import (
    DeliveryResult,
    attempt_apply,
    attempts_record,
    lease_seconds,
    notification_deliver,
)

# Rows locked with SKIP LOCKED: a notification another worker holds is left
# to the one-by-one path, which waits for its lock and then sees its state.
_ELIGIBLE = """
SELECT n.id, n.receiver_id, c.state, c.consecutive_failures, c.last_success_at
FROM receivers_notification n
JOIN receivers_receiver r ON r.id = n.receiver_id
LEFT JOIN receivers_receivercircuit c ON c.receiver_id = n.receiver_id
WHERE n.id = ANY(%(ids)s)
  AND n.state = 'pending'
  AND NOT n.is_digest
  AND r.enabled
  AND (n.attempts = 0 OR n.created_at + r.max_age_seconds * interval '1 second' > %(now)s)
  AND (c.state IS NULL OR c.state = 'closed')
  AND (NOT %(grouping)s OR n.acknowledgement OR NOT EXISTS (
      SELECT 1 FROM receivers_notification s
      WHERE s.receiver_id = n.receiver_id AND s.alert_group_id = n.alert_group_id
        AND s.id <> n.id))
ORDER BY n.id
FOR UPDATE OF n SKIP LOCKED
"""


def notifications_deliver(*, notification_ids: list[int]) -> dict[int, DeliveryResult]:
    """Make at most one delivery attempt for each notification; results by id."""
    now = timezone.now()
    claimed, circuit_seen = _batch_claim(notification_ids, now=now)
    results: dict[int, DeliveryResult] = {}
    if claimed:
        sends = Sends()
        outcomes = sends_run([sends.prepare(notification) for notification in claimed])
        now = timezone.now()
        recorded = [
            attempt_apply(notification, sent, now=now)
            for notification, sent in zip(claimed, outcomes, strict=True)
        ]
        results = attempts_record(recorded, circuit_seen=circuit_seen, now=now)
    for notification_id in notification_ids:
        if notification_id not in results:
            results[notification_id] = notification_deliver(notification_id=notification_id)
    return results


def _batch_claim(
    notification_ids: list[int], *, now: datetime
) -> tuple[list[Notification], dict[int, tuple | None]]:
    """Lease the notifications that need no decision; what each circuit looked like."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _ELIGIBLE,
                {
                    "ids": list(notification_ids),
                    "now": now,
                    "grouping": settings.HERALD_GROUP_WINDOW_SECONDS > 0,
                },
            )
            rows = cursor.fetchall()
        if not rows:
            return [], {}
        receivers = Receiver.objects.in_bulk({receiver_id for _, receiver_id, *_ in rows})
        by_receiver: dict[int, list[int]] = defaultdict(list)
        for notification_id, receiver_id, *_ in rows:
            by_receiver[receiver_id].append(notification_id)
        leased = [
            notification_id
            for receiver_id, ids in by_receiver.items()
            if _rate_take(receivers[receiver_id], count=len(ids))
            for notification_id in ids
        ]
        if not leased:
            return [], {}
        Notification.objects.filter(id__in=leased).update(
            state=NotificationState.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds()),
            updated_at=now,
        )
    claimed = list(
        Notification.objects.select_related("alert_group").filter(id__in=leased).order_by("id")
    )
    for notification in claimed:
        notification.receiver = receivers[notification.receiver_id]
    circuit_seen = {
        receiver_id: (state, failures, last_success_at) if state is not None else None
        for _, receiver_id, state, failures, last_success_at in rows
    }
    return claimed, circuit_seen


def _rate_take(receiver: Receiver, *, count: int) -> bool:
    """All of them within the limits, or none: those over it go one by one into a digest."""
    return delivery_rate_take(
        tenant_key=connection.tenant.schema_name,
        receiver_key=receiver_rate_key(receiver),
        receiver_rate=receiver.rate_limit,
        count=count,
    ).allowed
