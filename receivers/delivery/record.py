"""Recording what a send did: the attempt, the notification's next state, the circuit.

A batch's attempts and outcomes are written in one statement; what failed
for good is handed to its receiver's fallback in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from alerting.audit.outcomes import audit_outcomes_stage, outcome_of
from alerting.infra.sql import server_bound_cursor
from receivers import metrics
from receivers.delivery.backoff import retry_delay_seconds
from receivers.delivery.circuit import circuit_record_failure, circuit_record_success
from receivers.delivery.claim import awaiting_probe_release
from receivers.delivery.reroute import notification_fail_over
from receivers.delivery.results import DeliveryResult, metric_labels, notification_count
from receivers.delivery.send import SendOutcome
from receivers.metrics import error_reason
from receivers.models import (
    AttemptOutcome,
    CircuitState,
    DeliveryAttempt,
    Notification,
    NotificationState,
)
from receivers.services import receiver_config_update

_AUDITED_HERE = frozenset({AttemptOutcome.DELIVERED, AttemptOutcome.FAILED})


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
        if sent.vendor_ref:
            notification.vendor_ref = sent.vendor_ref
    else:
        metrics.notification_errors_total.labels(
            **metric_labels(notification),
            reason=error_reason(
                http_status=sent.http_status, permanent=sent.permanent, error=sent.error
            ),
        ).inc()
        retry_in = retry_delay_seconds(attempt=notification.attempts, retry_after=sent.retry_after,
                                       base=settings.HERALD_DELIVERY_BACKOFF_BASE_SECONDS)
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
        last_error = v.error, updated_at = %(now)s,
        vendor_ref = COALESCE(v.vendor_ref::jsonb, n.vendor_ref)
    FROM unnest(%(id)s::bigint[], %(state)s::varchar[], %(delivered_at)s::timestamptz[],
                %(next_attempt_at)s::timestamptz[], %(http_status)s::int[],
                %(latency_ms)s::int[], %(error)s::text[], %(vendor_ref)s::text[])
         AS v(id, state, delivered_at, next_attempt_at, http_status, latency_ms, error,
              vendor_ref)
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
    with server_bound_cursor() as cursor:  # planned once per connection
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
                # Kept on delivery: what later messages edit or thread under.
                "vendor_ref": [
                    json.dumps(item.sent.vendor_ref) if item.sent.vendor_ref else None
                    for item in recorded
                ],
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
            closed_by_probe = circuit_record_success(
                receiver=receiver, now=now, seen=circuit_seen.get(receiver.id)
            )
            if closed_by_probe:
                awaiting_probe_release(receiver_id=receiver.id, now=now)
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
            if item.outcome == AttemptOutcome.FAILED and notification_fail_over(
                item.notification, reason=f"failed for good: {item.sent.error}"
            ):
                finals[item.notification.id] = NotificationState.FAILED_OVER
        # The batch's outcomes in the audit trail: one row, no lock (a fail
        # over stages its own, with where the copy went).
        audit_outcomes_stage(
            outcomes=[
                outcome_of(item.notification)
                for item in recorded
                if finals[item.notification.id] in _AUDITED_HERE
            ],
            now=now,
        )
    for item in recorded:
        notification = item.notification
        final = finals[notification.id]
        status = "digest_" + item.outcome if notification.is_digest else final
        notification_count(notification, status)
        results[notification.id] = DeliveryResult(outcome=item.outcome, retry_in=item.retry_in)
    return results


def _max_attempts(notification: Notification) -> int:
    return notification.receiver.max_attempts if notification.receiver else 1
