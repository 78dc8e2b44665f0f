"""Writes on the outbox: notifications owed, handed to the workers, swept when lost.

Notifications are written in the transaction that decided them and enqueued
on commit; the sweep re-enqueues whatever a lost task or broker left behind.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import msgspec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerting.infra.sql import server_bound_cursor
from alerting.models import AlertGroup
from receivers.models import (
    Notification,
    NotificationState,
    Receiver,
)
from receivers.selectors import notification_ids_overdue

logger = logging.getLogger(__name__)


# One statement however many receivers, the alerts serialised once for all of
# them: it runs inside every ingest that changes an alert's state.
_CREATE = """
INSERT INTO receivers_notification
    (receiver_id, receiver_name, channel, alert_group_id, status, alerts, acknowledgement,
     state, attempts, created_at, updated_at, next_attempt_at, last_error, is_digest,
     folded_count, incident, group_update)
SELECT r.id, r.name, r.kind, %(group)s, %(status)s, %(alerts)s::json, %(acknowledgement)s,
       'pending', 0, %(now)s, %(now)s, %(now)s, '', false, 0, %(incident)s, %(group_update)s
FROM unnest(%(ids)s::bigint[], %(names)s::varchar[], %(kinds)s::varchar[])
     WITH ORDINALITY AS r(id, name, kind, position)
ORDER BY r.position
RETURNING id
"""


def notification_bulk_create(
    *,
    alert_group: AlertGroup,
    receivers: list[Receiver],
    status: str,
    alerts: list[dict[str, Any]],
    acknowledgement: bool = False,
    group_update: str = "",
) -> list[int]:
    """Record what each receiver is owed; call inside the ingest transaction.

    `group_update` ("acknowledged", "unacknowledged") marks an update passed on
    to channels that edit their message in place; it comes with acknowledgement.
    """
    if not receivers:
        return []
    with server_bound_cursor() as cursor:
        cursor.execute(
            _CREATE,
            {
                "group": alert_group.id,
                "status": status,
                "alerts": msgspec.json.encode(alerts).decode(),
                "acknowledgement": acknowledgement or bool(group_update),
                "incident": alert_group.incident,
                "group_update": group_update,
                "now": timezone.now(),
                "ids": [receiver.id for receiver in receivers],
                "names": [receiver.name for receiver in receivers],
                "kinds": [receiver.kind for receiver in receivers],
            },
        )
        return [row[0] for row in cursor.fetchall()]


def notifications_enqueue(*, notification_ids: list[int], countdown: float | None = None) -> None:
    """Hand notifications to the workers, in batches; run it on commit.

    A broker outage must not fail the request that already committed the
    work: the sweep enqueues whatever is still pending later.
    """
    size = settings.HERALD_DELIVERY_BATCH_SIZE
    _enqueue(
        [notification_ids[start : start + size] for start in range(0, len(notification_ids), size)],
        countdown=countdown,
    )


def tenant_delivery_wake() -> None:
    """A task for this tenant's due notifications, whichever they are (a runner left some)."""
    _enqueue([[]])


def _enqueue(batches: list[list[int]], *, countdown: float | None = None) -> None:
    from receivers.due import notifications_due_note
    from receivers.tasks import deliver_notifications

    # Before the broker: if it is down or the task is lost, the sweep is due.
    notifications_due_note(countdown=countdown)
    for position, batch in enumerate(batches):
        try:
            deliver_notifications.apply_async((batch,), countdown=countdown)
        except Exception as exc:  # kombu raises several types; all mean "not now"
            logger.warning(
                "broker unavailable, %d notifications left for the sweep: %s",
                sum(len(left) for left in batches[position:]),
                type(exc).__name__,
            )
            return


def notification_sweep() -> list[int]:
    """Re-enqueue this tenant's notifications whose task was lost; returns their ids."""
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    overdue = notification_ids_overdue(due_before=due_before)
    if overdue:
        with transaction.atomic():
            # Checked again under the rows' locks: a worker may have claimed
            # one since the read, and resetting its fresh lease would let a
            # second worker send it again.
            overdue = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(
                    id__in=overdue,
                    state__in=[NotificationState.PENDING, NotificationState.SENDING],
                    next_attempt_at__lt=due_before,
                )
                .values_list("id", flat=True)
            )
            # Make them due now, so the next sweep does not enqueue them again
            # while the re-enqueued tasks are still in the queue; a lease that
            # ran out means its worker died mid-send, so the work is pending again.
            Notification.objects.filter(id__in=overdue).update(
                state=NotificationState.PENDING, next_attempt_at=now, updated_at=now
            )
        notifications_enqueue(notification_ids=overdue)
    return overdue

