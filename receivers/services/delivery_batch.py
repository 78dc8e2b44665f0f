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

import json
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerting.models import AlertGroup
from receivers import metrics
from receivers.batch_sends import receiver_send_seconds, sends_run
from receivers.fairness import busy_retry_seconds
from receivers.models import Notification, Receiver
from receivers.ratelimit import delivery_rate_take, receiver_rate_key
from receivers.selectors import message_templates_for_delivery, receivers_for_delivery
from receivers.sending import Sends
from receivers.services.delivery import (
    TENANT_BUSY_REASON,
    DeliveryResult,
    attempt_apply,
    attempts_record,
    lease_seconds,
    notification_deliver,
)

# Rows locked with SKIP LOCKED: a notification another worker holds is left
# to the one-by-one path, which waits for its lock and then sees its state.
_ELIGIBLE = """
SELECT n.id, n.receiver_id, c.state, c.consecutive_failures, c.last_success_at,
       (SELECT version FROM alerting_config_version)
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

# What a message needs of its group; never the group's raw last payload.
_GROUP_FIELDS = (
    "id",
    "group_key",
    "group_labels",
    "common_labels",
    "common_annotations",
    "external_url",
    "truncated_alerts",
)
_NOTIFICATION_FIELDS = tuple(f.attname for f in Notification._meta.concrete_fields)
_JSON_FIELDS = {"alerts", "group_labels", "common_labels", "common_annotations"}

# The lease and the rows to send, in one statement without the ORM's
# query compilation (which cost more CPU than a send).
_LEASE = """
UPDATE receivers_notification n
SET state = 'sending', attempts = n.attempts + 1, next_attempt_at = %(lease_until)s,
    updated_at = %(now)s
FROM alerting_alertgroup g
WHERE n.id = ANY(%(ids)s) AND g.id = n.alert_group_id
RETURNING {notification}, {group}
""".format(
    notification=", ".join(f"n.{name}" for name in _NOTIFICATION_FIELDS),
    group=", ".join(f"g.{name}" for name in _GROUP_FIELDS),
)


def notifications_deliver(*, notification_ids: list[int]) -> dict[int, DeliveryResult]:
    """Make at most one delivery attempt for each notification; results by id."""
    now = timezone.now()
    claimed, circuit_seen, version = _batch_claim(notification_ids, now=now)
    results: dict[int, DeliveryResult] = {}
    if claimed:
        sends = Sends(
            templates=lambda channel: message_templates_for_delivery(
                channel=channel, version=version
            )
        )
        outcomes = sends_run([sends.prepare(notification) for notification in claimed])
        now = timezone.now()
        recorded = [
            attempt_apply(notification, sent, now=now)
            for notification, sent in zip(claimed, outcomes, strict=True)
            if sent is not None
        ]
        if recorded:
            results = attempts_record(recorded, circuit_seen=circuit_seen, now=now)
        busy = [n for n, sent in zip(claimed, outcomes, strict=True) if sent is None]
        if busy:
            results.update(_tenant_busy_unlease(busy, now=now))
    for notification_id in notification_ids:
        if notification_id not in results:
            results[notification_id] = notification_deliver(notification_id=notification_id)
    return results


def _batch_claim(
    notification_ids: list[int], *, now: datetime
) -> tuple[list[Notification], dict[int, tuple | None], int | None]:
    """Lease the notifications that need no decision.

    Also returns what each receiver's circuit looked like, and the
    configuration version the receivers were read under.
    """
    with transaction.atomic(), connection.cursor() as cursor:
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
            return [], {}, None
        version = rows[0][5]
        receivers = receivers_for_delivery(ids={row[1] for row in rows}, version=version)
        by_receiver: dict[int, list[int]] = defaultdict(list)
        for notification_id, receiver_id, *_ in rows:
            if receiver_id in receivers:
                by_receiver[receiver_id].append(notification_id)
        leased = [
            notification_id
            for receiver_id, ids in by_receiver.items()
            if _rate_take(receivers[receiver_id], count=len(ids))
            for notification_id in ids
        ]
        if not leased:
            return [], {}, version
        cursor.execute(
            _LEASE,
            {
                "ids": leased,
                "now": now,
                "lease_until": now + timedelta(seconds=lease_seconds()),
            },
        )
        claimed = sorted(
            (_notification_of(row, receivers) for row in cursor.fetchall()), key=lambda n: n.id
        )
    circuit_seen = {
        receiver_id: (state, failures, last_success_at) if state is not None else None
        for _, receiver_id, state, failures, last_success_at, _ in rows
    }
    return claimed, circuit_seen, version


def _notification_of(row: tuple, receivers: dict[int, Receiver]) -> Notification:
    """Model instances from a _LEASE row, as the ORM would build them."""
    size = len(_NOTIFICATION_FIELDS)
    values = [
        json.loads(value) if name in _JSON_FIELDS and isinstance(value, str) else value
        for name, value in zip(_NOTIFICATION_FIELDS + _GROUP_FIELDS, row, strict=True)
    ]
    notification = Notification.from_db(connection.alias, _NOTIFICATION_FIELDS, values[:size])
    notification.alert_group = AlertGroup.from_db(connection.alias, _GROUP_FIELDS, values[size:])
    notification.receiver = receivers[notification.receiver_id]
    return notification


# Only our own fresh lease is undone (the rows are still 'sending' under it):
# the attempt it counted was never made.
_UNLEASE = """
UPDATE receivers_notification
SET state = 'pending', attempts = attempts - 1, next_attempt_at = %(now)s + v.wait,
    last_error = %(reason)s, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(waits)s::interval[]) AS v(id, wait)
WHERE receivers_notification.id = v.id AND state = 'sending'
"""


def _tenant_busy_unlease(
    notifications: list[Notification], *, now: datetime
) -> dict[int, DeliveryResult]:
    """Put back what was leased but not sent (the tenant was at its cap): no attempt counted."""
    results: dict[int, DeliveryResult] = {}
    waits = []
    for notification in notifications:
        metrics.notification_errors_total.labels(
            tenant=connection.tenant.schema_name,
            receiver=notification.receiver_name,
            channel=notification.channel,
            reason="tenant_busy",
        ).inc()
        seconds = busy_retry_seconds(
            send_seconds=receiver_send_seconds(receiver_id=notification.receiver_id)
        )
        waits.append(timedelta(seconds=seconds))
        results[notification.id] = DeliveryResult(
            outcome=None, retry_in=seconds, tenant_busy=True
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _UNLEASE,
            {
                "ids": [n.id for n in notifications],
                "waits": waits,
                "now": now,
                "reason": TENANT_BUSY_REASON,
            },
        )
    return results


def _rate_take(receiver: Receiver, *, count: int) -> bool:
    """All of them within the limits, or none: those over it go one by one into a digest."""
    return delivery_rate_take(
        tenant_key=connection.tenant.schema_name,
        receiver_key=receiver_rate_key(receiver),
        receiver_rate=receiver.rate_limit,
        count=count,
    ).allowed
