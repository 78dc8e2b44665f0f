"""Where a notification goes when its receiver cannot take it: a digest, the fallback, or failed."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from alerting.audit.outcomes import audit_outcomes_stage, outcome_of
from receivers.delivery.digest import alerts_merge
from receivers.delivery.outbox import notifications_enqueue
from receivers.delivery.results import notification_count
from receivers.delivery.rules import is_page
from receivers.models import Notification, NotificationState, Receiver


def digest_fold(notification: Notification, *, wait: float, now) -> None:
    """Over the rate limit: not dropped, but carried by the receiver's next digest."""
    # The receiver's lock makes workers agree on one open digest per receiver.
    Receiver.objects.select_for_update().filter(id=notification.receiver_id).first()
    digest = (
        Notification.objects.select_for_update()
        .filter(
            receiver_id=notification.receiver_id,
            is_digest=True,
            state=NotificationState.PENDING,
            attempts=0,
        )
        .first()
    )
    created = digest is None
    if created:
        digest = Notification(
            receiver=notification.receiver,
            receiver_name=notification.receiver_name,
            channel=notification.channel,
            alert_group=notification.alert_group,
            status=notification.status,
            alerts=[],
            is_digest=True,
            created_at=now,
            next_attempt_at=now + timedelta(seconds=wait),
        )
    digest.alerts = alerts_merge([digest.alerts, notification.alerts])
    if notification.status == "firing":
        digest.status = "firing"
    digest.folded_count += 1 + notification.folded_count
    digest.save()
    notification.state = NotificationState.FOLDED
    notification.folded_into = digest
    notification.last_error = "rate limited: folded into a digest"
    notification.save(update_fields=["state", "folded_into", "last_error", "updated_at"])
    notification_count(notification, NotificationState.FOLDED)
    audit_outcomes_stage(outcomes=[outcome_of(notification, digest_id=digest.id)], now=now)
    if created:
        digest_id = digest.id
        transaction.on_commit(
            lambda: notifications_enqueue(notification_ids=[digest_id], countdown=wait)
        )


def _failover_target(notification: Notification) -> Receiver | None:
    """The receiver's fallback, unless it already had this notification (no loops).

    A person's page has none: the fallback's recipients are not that person
    (the chain's next level, or its fallback targets, stand in for them).
    """
    if is_page(notification):
        return None
    receiver = notification.receiver
    fallback = receiver.fallback if receiver else None
    if fallback is None or not fallback.enabled:
        return None
    seen = {notification.receiver_id}
    ancestor_id = notification.failover_of_id
    while ancestor_id is not None and ancestor_id not in seen:
        row = (
            Notification.objects.filter(id=ancestor_id)
            .values("receiver_id", "failover_of_id")
            .first()
        )
        if row is None:
            break
        seen.add(row["receiver_id"])
        ancestor_id = row["failover_of_id"]
    return None if fallback.id in seen else fallback


def notification_fail_over(notification: Notification, *, reason: str) -> bool:
    """Hand the notification to the receiver's fallback; False if there is none to use."""
    fallback = _failover_target(notification)
    if fallback is None:
        return False
    copy = Notification.objects.create(
        receiver=fallback,
        receiver_name=fallback.name,
        channel=fallback.kind,
        alert_group=notification.alert_group,
        status=notification.status,
        alerts=notification.alerts,
        acknowledgement=notification.acknowledgement,
        group_update=notification.group_update,
        incident=notification.incident,
        is_digest=notification.is_digest,
        folded_count=notification.folded_count,
        failover_of=notification,
    )
    notification.state = NotificationState.FAILED_OVER
    notification.last_error = f"{reason}; sent through the fallback receiver {fallback.name!r}"
    notification.save(update_fields=["state", "last_error", "updated_at"])
    notification_count(notification, NotificationState.FAILED_OVER)
    audit_outcomes_stage(
        outcomes=[
            outcome_of(notification, fallback=fallback.name, fallback_notification_id=copy.id)
        ]
    )
    transaction.on_commit(lambda: notifications_enqueue(notification_ids=[copy.id]))
    return True


def notification_give_up(notification: Notification, *, reason: str) -> str:
    """Failed for good here: the fallback takes it, or it is recorded as failed."""
    if notification_fail_over(notification, reason=reason):
        return NotificationState.FAILED_OVER
    notification.state = NotificationState.FAILED
    notification.last_error = reason
    notification.save(update_fields=["state", "last_error", "updated_at"])
    notification_count(notification, NotificationState.FAILED)
    audit_outcomes_stage(outcomes=[outcome_of(notification)])
    return NotificationState.FAILED
