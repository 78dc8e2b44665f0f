"""Delivery's entry point: claim, send and record notifications, at most one attempt each.

What needs no decision is claimed as a batch and sent side by side
(receivers.delivery.threads); everything else is claimed one by one, where
each rule is decided, then sent and recorded by the same steps. A task
delivers as one of its tenant's runners in the worker process, or hands its
work over to them (receivers.delivery.fairness).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from receivers.delivery.claim import batch_claim, notification_claim
from receivers.delivery.fairness import (
    runner_carry_on,
    runner_join,
    runner_leave,
)
from receivers.delivery.outbox import tenant_delivery_wake
from receivers.delivery.phone_limits import phone_sends_admit
from receivers.delivery.record import attempt_apply, attempts_record
from receivers.delivery.results import DeliveryResult
from receivers.delivery.send import Sends
from receivers.delivery.threads import send_remember, sends_run
from receivers.selectors import message_templates_for_delivery


def notifications_deliver(
    *, notification_ids: list[int], take_due: int = 0
) -> dict[int, DeliveryResult]:
    """Make at most one delivery attempt for each notification; results by id.

    With `take_due` (the tasks), the call is one of the tenant's runners in
    this process: up to that many more of the tenant's due notifications
    are taken along, and it claims again while more are due or were handed
    over, their results included. A notification that is not due yet is
    left alone (its task came again after another had taken it along; its
    retry, or the sweep, comes when it is due). When the tenant's runners
    are at their cap, the call hands over: nothing is touched, and the
    results say nothing was sent. Without `take_due` (a person's retry, a
    test), the call delivers what it was asked at once.
    """
    if not take_due:
        return _round(notification_ids, extra=0, only_due=False)[0]
    tenant = connection.schema_name
    seen = runner_join(tenant=tenant)
    if seen is None:
        return dict.fromkeys(notification_ids, DeliveryResult(outcome=None))
    deadline = time.monotonic() + settings.HERALD_DELIVERY_RUNNER_SECONDS
    results: dict[int, DeliveryResult] = {}
    asked = notification_ids
    try:
        while True:
            found, more_due = _round(asked, extra=take_due, only_due=True)
            results.update(found)
            asked, take_due = [], settings.HERALD_DELIVERY_BATCH_SIZE
            if time.monotonic() >= deadline:
                break
            next_seen = runner_carry_on(tenant=tenant, seen=seen, more_due=more_due)
            if next_seen is None:
                return results
            seen = next_seen
    except BaseException:
        if runner_leave(tenant=tenant, seen=seen):
            tenant_delivery_wake()
        raise
    # Out of time with work maybe left: a task of its own carries on.
    if runner_leave(tenant=tenant, seen=seen) or more_due:
        tenant_delivery_wake()
    return results


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """`notifications_deliver` for one notification: the same claim, send and record."""
    return notifications_deliver(notification_ids=[notification_id])[notification_id]


def _round(
    notification_ids: list[int], *, extra: int, only_due: bool
) -> tuple[dict[int, DeliveryResult], bool]:
    """One claim, its sends and their records; whether more may be due."""
    now = timezone.now()
    batch = batch_claim(notification_ids, now=now, extra=extra, only_due=only_due)
    results: dict[int, DeliveryResult] = {}
    claimed, stopped = phone_sends_admit(batch.claimed, now=now)
    results.update(stopped)
    if claimed:
        sends = Sends(
            templates=lambda channel: message_templates_for_delivery(
                channel=channel, version=batch.version
            )
        )
        outcomes = sends_run([sends.prepare(notification) for notification in claimed])
        now = timezone.now()
        recorded = [
            attempt_apply(notification, sent, now=now)
            for notification, sent in zip(claimed, outcomes, strict=True)
        ]
        results = attempts_record(recorded, circuit_seen=batch.circuit_seen, now=now)
    for notification_id in [*notification_ids, *batch.to_decide]:
        if notification_id in batch.settled:
            results[notification_id] = DeliveryResult(outcome=None)
        elif notification_id not in results:
            results[notification_id] = _deliver_deciding(notification_id, only_due=only_due)
    return results, batch.more_due


def _deliver_deciding(notification_id: int, *, only_due: bool = False) -> DeliveryResult:
    """One notification that needed a decision: claimed under its lock, then sent and recorded.

    A notification already delivered or otherwise final is left alone, so a
    task that is redelivered (worker lost, sweep) does not send twice.
    """
    claim = notification_claim(notification_id, only_due=only_due)
    if claim.notification is None:
        return claim.result
    notification = claim.notification
    _, stopped = phone_sends_admit([notification], now=timezone.now())
    if stopped:  # over the number's limit or the month's phone spend: settled, not sent
        return stopped[notification.id]
    send = Sends().prepare(notification)
    sent = send.run()
    send_remember(send, sent)
    now = timezone.now()
    recorded = attempt_apply(notification, sent, now=now)
    seen = {notification.receiver_id: claim.circuit_seen}
    return attempts_record([recorded], circuit_seen=seen, now=now)[notification.id]
