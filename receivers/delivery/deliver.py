"""Delivery's entry point: claim, send and record notifications, at most one attempt each.

What needs no decision is claimed as a batch and sent side by side
(receivers.delivery.threads); everything else is claimed one by one, where
each rule is decided, then sent and recorded by the same steps.
"""

from __future__ import annotations

from django.utils import timezone

from receivers.delivery.claim import batch_claim, notification_claim, tenant_busy_unlease
from receivers.delivery.record import attempt_apply, attempts_record
from receivers.delivery.results import DeliveryResult
from receivers.delivery.send import Sends
from receivers.delivery.threads import send_remember, sends_run
from receivers.selectors import message_templates_for_delivery


def notifications_deliver(
    *, notification_ids: list[int], take_due: int = 0
) -> dict[int, DeliveryResult]:
    """Make at most one delivery attempt for each notification; results by id.

    With `take_due` (the tasks), up to that many more of the tenant's due
    notifications are taken along, their results included, and a
    notification that is not due yet is left alone: its task came again
    after another had taken it along (its retry, or the sweep, comes when it
    is due).
    """
    now = timezone.now()
    only_due = take_due > 0
    batch = batch_claim(notification_ids, now=now, extra=take_due, only_due=only_due)
    results: dict[int, DeliveryResult] = {}
    if batch.claimed:
        sends = Sends(
            templates=lambda channel: message_templates_for_delivery(
                channel=channel, version=batch.version
            )
        )
        outcomes = sends_run([sends.prepare(notification) for notification in batch.claimed])
        now = timezone.now()
        recorded = [
            attempt_apply(notification, sent, now=now)
            for notification, sent in zip(batch.claimed, outcomes, strict=True)
            if sent is not None
        ]
        if recorded:
            results = attempts_record(recorded, circuit_seen=batch.circuit_seen, now=now)
        busy = [n for n, sent in zip(batch.claimed, outcomes, strict=True) if sent is None]
        if busy:
            results.update(tenant_busy_unlease(busy, now=now))
    for notification_id in notification_ids:
        if notification_id in batch.settled:
            results[notification_id] = DeliveryResult(outcome=None)
        elif notification_id not in results:
            results[notification_id] = _deliver_deciding(notification_id, only_due=only_due)
    return results


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """`notifications_deliver` for one notification: the same claim, send and record."""
    return notifications_deliver(notification_ids=[notification_id])[notification_id]


def _deliver_deciding(notification_id: int, *, only_due: bool = False) -> DeliveryResult:
    """One notification that needed a decision: claimed under its lock, then sent and recorded.

    A notification already delivered or otherwise final is left alone, so a
    task that is redelivered (worker lost, sweep) does not send twice.
    """
    claim = notification_claim(notification_id, only_due=only_due)
    if claim.notification is None:
        return claim.result
    notification = claim.notification
    send = Sends().prepare(notification)
    try:
        sent = send.run()
    finally:
        claim.slot.release()
    send_remember(send, sent)
    now = timezone.now()
    recorded = attempt_apply(notification, sent, now=now)
    seen = {notification.receiver_id: claim.circuit_seen}
    return attempts_record([recorded], circuit_seen=seen, now=now)[notification.id]
