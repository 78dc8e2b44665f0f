"""Writes on notifications: create them (outbox), deliver them, sweep them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerting.models import AlertGroup
from receivers.backoff import retry_delay_seconds
from receivers.messages import alert_message_for
from receivers.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Notification,
    NotificationState,
    Receiver,
)
from receivers.selectors import notification_ids_overdue
from receivers.transports import TransportError, transport_class

logger = logging.getLogger(__name__)

_FINAL_STATES = (NotificationState.DELIVERED, NotificationState.FAILED)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: AttemptOutcome | None  # None: nothing to do (already final, or gone)
    retry_in: float | None = None


def notification_bulk_create(
    *,
    alert_group: AlertGroup,
    receivers: list[Receiver],
    status: str,
    alerts: list[dict[str, Any]],
) -> list[int]:
    """Record what each receiver is owed; call inside the ingest transaction."""
    now = timezone.now()
    created = Notification.objects.bulk_create(
        Notification(
            receiver=receiver,
            receiver_name=receiver.name,
            channel=receiver.kind,
            alert_group=alert_group,
            status=status,
            alerts=alerts,
            created_at=now,
            next_attempt_at=now,
        )
        for receiver in receivers
    )
    return [notification.id for notification in created]


def notifications_enqueue(*, notification_ids: list[int]) -> None:
    """Hand notifications to the workers; run it on commit.

    A broker outage must not fail the request that already committed the
    work: the sweep enqueues whatever is still pending later.
    """
    from receivers.tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception as exc:  # kombu raises several types; all mean "not now"
            logger.warning(
                "broker unavailable, notification %s left for the sweep: %s",
                notification_id,
                type(exc).__name__,
            )
            return


def _lease_seconds() -> float:
    # Long enough for one send to finish or time out.
    return 2 * settings.HERALD_HTTP_TIMEOUT_SECONDS + 5


def _notification_claim(notification_id: int) -> Notification | float | None:
    """Lease the notification for one attempt.

    Returns the notification, None when there is nothing to do, or the seconds
    until another worker's lease on it runs out (it may be sending right now).
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("receiver", "alert_group")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.state in _FINAL_STATES:
            return None
        if notification.state == NotificationState.SENDING and notification.next_attempt_at > now:
            return (notification.next_attempt_at - now).total_seconds()
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + timedelta(seconds=_lease_seconds())
        notification.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    return notification


def _send(notification: Notification) -> tuple[int | None, str, bool, float | None]:
    """Send once. Returns (http status, error text, permanent failure, retry-after)."""
    receiver = notification.receiver
    if receiver is None or not receiver.enabled:
        return None, "the receiver was deleted or disabled", True, None
    tenant = connection.tenant
    transport = transport_class(receiver.kind)(
        config=receiver.config,
        secrets=receiver.secrets,
        allow_private=tenant.allow_private_targets,
    )
    try:
        result = transport.send(alert_message_for(notification, tenant_slug=tenant.slug))
    except TransportError as exc:
        return exc.http_status, exc.message, exc.permanent, exc.retry_after
    return result.http_status, "", False, None


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """Make one delivery attempt and record it.

    A notification already delivered or failed is left alone, so a task that
    is redelivered (worker lost, sweep) does not send twice.
    """
    notification = _notification_claim(notification_id)
    if notification is None:
        return DeliveryResult(outcome=None)
    if isinstance(notification, float):
        return DeliveryResult(outcome=None, retry_in=notification)

    started_at = timezone.now()
    clock = time.perf_counter()
    http_status, error, permanent, retry_after = _send(notification)
    latency_ms = round((time.perf_counter() - clock) * 1000)

    retry_in = None
    if not error:
        outcome = AttemptOutcome.DELIVERED
        notification.state = NotificationState.DELIVERED
        notification.delivered_at = timezone.now()
    elif permanent or notification.attempts >= _max_attempts(notification):
        outcome = AttemptOutcome.FAILED
        notification.state = NotificationState.FAILED
    else:
        outcome = AttemptOutcome.RETRY
        retry_in = retry_delay_seconds(attempt=notification.attempts, retry_after=retry_after)
        notification.state = NotificationState.PENDING
        notification.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)

    notification.last_http_status = http_status
    notification.last_latency_ms = latency_ms
    notification.last_error = error
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=notification,
            number=notification.attempts,
            started_at=started_at,
            outcome=outcome,
            http_status=http_status,
            latency_ms=latency_ms,
            error=error,
        )
        notification.save(
            update_fields=[
                "state",
                "delivered_at",
                "next_attempt_at",
                "last_http_status",
                "last_latency_ms",
                "last_error",
                "updated_at",
            ]
        )
    return DeliveryResult(outcome=outcome, retry_in=retry_in)


def _max_attempts(notification: Notification) -> int:
    return notification.receiver.max_attempts if notification.receiver else 1


def notification_sweep() -> list[int]:
    """Re-enqueue this tenant's notifications whose task was lost; returns their ids."""
    now = timezone.now()
    overdue = notification_ids_overdue(
        due_before=now - timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    )
    if overdue:
        # Make them due now, so the next sweep does not enqueue them again
        # while the re-enqueued tasks are still in the queue; a lease that ran
        # out means its worker died mid-send, so the work is pending again.
        Notification.objects.filter(id__in=overdue).update(
            state=NotificationState.PENDING, next_attempt_at=now, updated_at=now
        )
        notifications_enqueue(notification_ids=overdue)
    return overdue


def receiver_secret_set(*, receiver: Receiver, name: str, value: str) -> None:
    """Store one secret of a receiver (encrypted at rest)."""
    receiver.secrets = {**receiver.secrets, name: value}
    receiver.save(update_fields=["secrets", "updated_at"])


def receiver_create(
    *,
    name: str,
    kind: str,
    secrets: dict[str, str],
    config: dict[str, Any] | None = None,
    max_attempts: int = 6,
) -> Receiver:
    return Receiver.objects.create(
        name=name, kind=kind, secrets=secrets, config=config or {}, max_attempts=max_attempts
    )
