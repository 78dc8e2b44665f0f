"""Delivery of one notification: claim, send, record.

The claim decides under the notification's lock (circuit, grouping window,
rate limit, max age, failover), one send happens outside any transaction,
and its outcome is recorded with the next step (delivered, retry with
backoff, failed or handed to the fallback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from receivers import metrics
from receivers.backoff import retry_delay_seconds
from receivers.batch_sends import receiver_send_seconds, send_remember
from receivers.circuit import circuit_admit, circuit_record_failure, circuit_record_success
from receivers.digest import alerts_merge
from receivers.fairness import SendSlot, busy_retry_seconds
from receivers.metrics import error_reason
from receivers.models import (
    FINAL_STATES,
    AttemptOutcome,
    CircuitState,
    DeliveryAttempt,
    Notification,
    NotificationState,
    Receiver,
)
from receivers.ratelimit import delivery_rate_take, receiver_rate_key
from receivers.sending import SendOutcome, Sends
from receivers.services.outbox import notifications_enqueue
from receivers.services.receivers import receiver_config_update

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str | None  # an AttemptOutcome, a final state, or None: nothing was sent
    retry_in: float | None = None
    # Nothing was sent because the tenant's sends were at their cap in this
    # process (receivers.fairness): pending again, no attempt counted.
    tenant_busy: bool = False


def lease_seconds() -> float:
    # Long enough for one send to finish or time out.
    return settings.HERALD_DELIVERY_LEASE_SECONDS or 2 * settings.HERALD_HTTP_TIMEOUT_SECONDS + 5


def _labels(notification: Notification) -> dict[str, str]:
    return {
        "tenant": connection.tenant.schema_name,
        "receiver": notification.receiver_name,
        "channel": notification.channel,
    }


def _count(notification: Notification, status: str) -> None:
    metrics.notifications_total.labels(**_labels(notification), status=status).inc()


@dataclass
class _Claim:
    """What the claim decided: send `notification`, or `result` says why not."""

    notification: Notification | None = None
    result: DeliveryResult | None = None
    probe: bool = False
    circuit_seen: tuple | None = None
    # The tenant's slot the send holds; whoever sends frees it.
    slot: SendSlot | None = None


def _postpone(notification: Notification, *, seconds: float, reason: str, now) -> _Claim:
    """Put it back without counting an attempt: nothing was sent."""
    notification.state = NotificationState.PENDING
    notification.next_attempt_at = now + timedelta(seconds=seconds)
    notification.last_error = reason
    notification.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
    return _Claim(result=DeliveryResult(outcome=None, retry_in=seconds))


def _too_old(notification: Notification, now) -> bool:
    receiver = notification.receiver
    max_age = receiver.max_age_seconds if receiver else 0
    return now >= notification.created_at + timedelta(seconds=max_age)


TENANT_BUSY_REASON = "tenant busy: its sends in this worker were at their cap"


def tenant_busy_postpone(notification: Notification, *, now) -> DeliveryResult:
    """The tenant's sends are at their cap here: pending again soon, no attempt counted.

    Its next attempt moves past the retry, so the sweep leaves it to the
    queued retry; if that is lost, the sweep takes it up as any other.
    """
    metrics.notification_errors_total.labels(**_labels(notification), reason="tenant_busy").inc()
    seconds = busy_retry_seconds(
        send_seconds=receiver_send_seconds(receiver_id=notification.receiver_id)
    )
    result = _postpone(notification, seconds=seconds, reason=TENANT_BUSY_REASON, now=now).result
    return replace(result, tenant_busy=True)


def _notification_claim(notification_id: int) -> _Claim:
    """Decide, under the notification's lock, whether to send it now.

    In order: final or leased elsewhere (nothing to do); too old (give up,
    fail over); no free slot for the tenant's sends (retry shortly); circuit
    open (fail over, or wait for the cool-down); inside the grouping window
    (wait, then carry every alert that came meanwhile); over the rate limit
    (fold into the receiver's digest). Otherwise lease it for one attempt.
    """
    slot = SendSlot(connection.tenant.schema_name)
    claim = None
    try:
        claim = _notification_claim_locked(notification_id, slot=slot)
        return claim
    finally:
        # Taken before the circuit, grouping and rate decisions (so a busy
        # tenant spends no probe or rate token); freed unless it sends.
        if claim is None or claim.notification is None:
            slot.release()


def _notification_claim_locked(notification_id: int, *, slot: SendSlot) -> _Claim:
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("receiver", "alert_group")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.state in FINAL_STATES:
            return _Claim(result=DeliveryResult(outcome=None))
        if notification.state == NotificationState.SENDING and notification.next_attempt_at > now:
            wait = (notification.next_attempt_at - now).total_seconds()
            return _Claim(result=DeliveryResult(outcome=None, retry_in=wait))
        receiver = notification.receiver
        probe, circuit_seen = False, None
        if receiver is not None and receiver.enabled:
            if _too_old(notification, now) and notification.attempts:
                error = notification.last_error or "no attempt succeeded"
                outcome = _give_up(notification, reason=f"gave up after max age: {error}")
                return _Claim(result=DeliveryResult(outcome=outcome))
            if not slot.take():
                return _Claim(result=tenant_busy_postpone(notification, now=now))
            admission, circuit_seen = circuit_admit(
                receiver=receiver, now=now, probe_lease_seconds=lease_seconds()
            )
            if not admission.allowed:
                metrics.notification_errors_total.labels(
                    **_labels(notification), reason="circuit_open"
                ).inc()
                if _failover(notification, reason="the receiver's circuit is open"):
                    return _Claim(result=DeliveryResult(outcome=NotificationState.FAILED_OVER))
                if _too_old(notification, now):
                    outcome = _give_up(notification, reason="gave up: the circuit stayed open")
                    return _Claim(result=DeliveryResult(outcome=outcome))
                return _postpone(
                    notification,
                    seconds=admission.wait_seconds,
                    reason="circuit open: waiting for the cool-down",
                    now=now,
                )
            probe = admission.probe
            if not notification.acknowledgement and not notification.is_digest:
                wait = _group_window_wait(notification, now)
                if wait:
                    return _postpone(
                        notification, seconds=wait, reason="grouping window", now=now
                    )
            rate = delivery_rate_take(
                tenant_key=connection.tenant.schema_name,
                receiver_key=receiver_rate_key(receiver),
                receiver_rate=receiver.rate_limit,
            )
            if not rate.allowed:
                if notification.is_digest:
                    return _postpone(
                        notification, seconds=rate.wait_seconds, reason="rate limited", now=now
                    )
                _fold_into_digest(notification, wait=rate.wait_seconds, now=now)
                return _Claim(result=DeliveryResult(outcome=NotificationState.FOLDED))
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + timedelta(seconds=lease_seconds())
        notification.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    return _Claim(notification=notification, probe=probe, circuit_seen=circuit_seen, slot=slot)


def _group_window_wait(notification: Notification, now) -> float:
    """Seconds to hold a notification so later alerts of its group join it; 0: send now.

    The first message of a group goes out at once; what follows for the same
    receiver and group within the window waits for the window to pass and
    then goes out as one message. Waiting siblings are merged into this one.
    """
    window = settings.HERALD_GROUP_WINDOW_SECONDS
    if window <= 0:
        return 0.0
    # One query on the hot path: usually a group has no other notification.
    siblings = list(
        Notification.objects.filter(
            receiver_id=notification.receiver_id, alert_group_id=notification.alert_group_id
        )
        .exclude(id=notification.id)
        .values_list("state", "delivered_at", "is_digest", "acknowledgement")
    )
    if not siblings:
        return 0.0
    if any(state == NotificationState.SENDING for state, *_ in siblings):
        return window
    sent = [
        delivered_at
        for state, delivered_at, is_digest, _ in siblings
        if state == NotificationState.DELIVERED and not is_digest and delivered_at
    ]
    if sent and (wait := (max(sent) + timedelta(seconds=window) - now).total_seconds()) > 0:
        return wait
    if any(
        state == NotificationState.PENDING and not is_digest and not acknowledgement
        for state, _, is_digest, acknowledgement in siblings
    ):
        _group_merge(notification)
    return 0.0


def _group_merge(notification: Notification) -> None:
    """Carry the alerts of the group's other waiting notifications in this one."""
    others = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(
            receiver_id=notification.receiver_id,
            alert_group_id=notification.alert_group_id,
            state=NotificationState.PENDING,
            acknowledgement=False,
            is_digest=False,
        )
        .exclude(id=notification.id)
        .order_by("created_at", "id")
    )
    if not others:
        return
    notification.alerts = alerts_merge([notification.alerts, *(o.alerts for o in others)])
    if any(alert.get("status") == "firing" for alert in notification.alerts):
        notification.status = "firing"
    notification.folded_count += sum(1 + o.folded_count for o in others)
    notification.save(update_fields=["alerts", "status", "folded_count", "updated_at"])
    Notification.objects.filter(id__in=[o.id for o in others]).update(
        state=NotificationState.MERGED, folded_into=notification, updated_at=timezone.now()
    )
    for other in others:
        _count(other, NotificationState.MERGED)


def _fold_into_digest(notification: Notification, *, wait: float, now) -> None:
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
    _count(notification, NotificationState.FOLDED)
    if created:
        digest_id = digest.id
        transaction.on_commit(
            lambda: notifications_enqueue(notification_ids=[digest_id], countdown=wait)
        )


def _failover_target(notification: Notification) -> Receiver | None:
    """The receiver's fallback, unless it already had this notification (no loops)."""
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


def _failover(notification: Notification, *, reason: str) -> bool:
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
        is_digest=notification.is_digest,
        folded_count=notification.folded_count,
        failover_of=notification,
    )
    notification.state = NotificationState.FAILED_OVER
    notification.last_error = f"{reason}; sent through the fallback receiver {fallback.name!r}"
    notification.save(update_fields=["state", "last_error", "updated_at"])
    _count(notification, NotificationState.FAILED_OVER)
    transaction.on_commit(lambda: notifications_enqueue(notification_ids=[copy.id]))
    return True


def _give_up(notification: Notification, *, reason: str) -> str:
    """Failed for good here: the fallback takes it, or it is recorded as failed."""
    if _failover(notification, reason=reason):
        return NotificationState.FAILED_OVER
    notification.state = NotificationState.FAILED
    notification.last_error = reason
    notification.save(update_fields=["state", "last_error", "updated_at"])
    _count(notification, NotificationState.FAILED)
    return NotificationState.FAILED


@dataclass(frozen=True)
class Recorded:
    """One attempt's outcome applied to its notification, not yet saved."""

    notification: Notification
    attempt: DeliveryAttempt
    sent: SendOutcome
    retry_in: float | None

    @property
    def outcome(self) -> str:
        return self.attempt.outcome


def attempt_apply(notification: Notification, sent: SendOutcome, *, now) -> Recorded:
    """Decide what a send means for its notification: delivered, retry later or failed."""
    receiver = notification.receiver
    metrics.notification_duration_seconds.labels(channel=notification.channel).observe(
        sent.duration
    )
    if sent.http_status is not None or sent.error:
        code = str(sent.http_status) if sent.http_status is not None else "error"
        metrics.integration_requests_total.labels(channel=notification.channel, code=code).inc()
    retry_in = None
    if not sent.error:
        outcome = AttemptOutcome.DELIVERED
        notification.state = NotificationState.DELIVERED
        notification.delivered_at = now
    else:
        metrics.notification_errors_total.labels(
            **_labels(notification),
            reason=error_reason(
                http_status=sent.http_status, permanent=sent.permanent, error=sent.error
            ),
        ).inc()
        retry_in = retry_delay_seconds(attempt=notification.attempts, retry_after=sent.retry_after)
        deadline = notification.created_at + timedelta(
            seconds=receiver.max_age_seconds if receiver else 0
        )
        exhausted = (
            notification.attempts >= _max_attempts(notification)
            or now + timedelta(seconds=retry_in) > deadline
        )
        if sent.permanent or exhausted:
            outcome = AttemptOutcome.FAILED
            notification.state = NotificationState.FAILED
            retry_in = None
        else:
            outcome = AttemptOutcome.RETRY
            notification.state = NotificationState.PENDING
            notification.next_attempt_at = now + timedelta(seconds=retry_in)
    latency_ms = round(sent.duration * 1000)
    notification.last_http_status = sent.http_status
    notification.last_latency_ms = latency_ms
    notification.last_error = sent.note
    notification.updated_at = now
    attempt = DeliveryAttempt(
        notification=notification,
        number=notification.attempts,
        started_at=sent.started_at or now,
        outcome=outcome,
        http_status=sent.http_status,
        latency_ms=latency_ms,
        error=sent.note,
        retry_in_seconds=retry_in,
    )
    return Recorded(notification=notification, attempt=attempt, sent=sent, retry_in=retry_in)


# The attempts and their notifications' new state in one statement for a
# whole batch: the ORM's bulk_update builds a CASE per field and row, and
# with bulk_create it cost more CPU than the sends it recorded.
_RECORD = """
WITH outcome AS (
    UPDATE receivers_notification n
    SET state = v.state, delivered_at = v.delivered_at, next_attempt_at = v.next_attempt_at,
        last_http_status = v.http_status, last_latency_ms = v.latency_ms,
        last_error = v.error, updated_at = %(now)s
    FROM unnest(%(id)s::bigint[], %(state)s::varchar[], %(delivered_at)s::timestamptz[],
                %(next_attempt_at)s::timestamptz[], %(http_status)s::int[],
                %(latency_ms)s::int[], %(error)s::text[])
         AS v(id, state, delivered_at, next_attempt_at, http_status, latency_ms, error)
    WHERE n.id = v.id
)
INSERT INTO receivers_deliveryattempt
    (notification_id, number, started_at, outcome, http_status, latency_ms, error,
     retry_in_seconds)
SELECT * FROM unnest(%(id)s::bigint[], %(number)s::int[], %(started_at)s::timestamptz[],
                     %(outcome)s::varchar[], %(http_status)s::int[], %(latency_ms)s::int[],
                     %(error)s::text[], %(retry_in)s::float8[])
"""


def _attempts_save(recorded: list[Recorded], *, now) -> None:
    notifications = [item.notification for item in recorded]
    attempts = [item.attempt for item in recorded]
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD,
            {
                "now": now,
                "id": [n.id for n in notifications],
                "state": [n.state for n in notifications],
                "delivered_at": [n.delivered_at for n in notifications],
                "next_attempt_at": [n.next_attempt_at for n in notifications],
                "http_status": [a.http_status for a in attempts],
                "latency_ms": [a.latency_ms for a in attempts],
                "error": [a.error for a in attempts],
                "number": [a.number for a in attempts],
                "started_at": [a.started_at for a in attempts],
                "outcome": [a.outcome for a in attempts],
                "retry_in": [a.retry_in_seconds for a in attempts],
            },
        )


def attempts_record(
    recorded: list[Recorded], *, circuit_seen: dict[int, tuple | None], now
) -> dict[int, DeliveryResult]:
    """Save attempts and their notifications in one transaction; fail over what failed for good.

    Circuits hear the outcomes in order, so a success after failures closes
    what they opened; `circuit_seen` (receiver id -> what the claim read)
    lets a closed, healthy circuit skip its write.
    """
    for item in recorded:
        notification = item.notification
        if item.sent.config_update and notification.receiver_id:
            receiver_config_update(
                receiver_id=notification.receiver_id, changes=item.sent.config_update
            )
        receiver = notification.receiver
        if receiver is None:
            continue
        if not item.sent.error:
            circuit_record_success(
                receiver=receiver, now=now, seen=circuit_seen.get(receiver.id)
            )
            circuit_seen[receiver.id] = (CircuitState.CLOSED, 0, now)
        elif item.sent.outage:
            circuit_record_failure(receiver=receiver, now=now, error=item.sent.error)
            circuit_seen[receiver.id] = None
    results: dict[int, DeliveryResult] = {}
    finals: dict[int, str] = {}
    with transaction.atomic():
        _attempts_save(recorded, now=now)
        for item in recorded:
            finals[item.notification.id] = item.outcome
            if item.outcome == AttemptOutcome.FAILED and _failover(
                item.notification, reason=f"failed for good: {item.sent.error}"
            ):
                finals[item.notification.id] = NotificationState.FAILED_OVER
    for item in recorded:
        notification = item.notification
        final = finals[notification.id]
        _count(notification, "digest_" + item.outcome if notification.is_digest else final)
        results[notification.id] = DeliveryResult(outcome=item.outcome, retry_in=item.retry_in)
    return results


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """Make at most one delivery attempt and record it.

    A notification already delivered or otherwise final is left alone, so a
    task that is redelivered (worker lost, sweep) does not send twice.
    """
    claim = _notification_claim(notification_id)
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


def _max_attempts(notification: Notification) -> int:
    return notification.receiver.max_attempts if notification.receiver else 1

