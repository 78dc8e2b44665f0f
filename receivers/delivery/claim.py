"""Claiming notifications for a send: what may go now, leased, and what must wait.

Two ways in, one set of rules. A batch (`batch_claim`) leases at once, in a
few statements, every notification that needs no decision: pending, not a
digest, its receiver enabled with a closed circuit, nothing else of its
group held for the same receiver (the grouping window), within the rate
limits. Anything else is claimed one by one (`notification_claim`), under its
row lock, where each rule is decided: final or leased elsewhere, too old,
the circuit, the grouping window, the rate limit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerting.infra.sql import (
    server_bound_cursor,
    transaction_first_execute,
    transaction_last_execute,
)
from alerting.models import AlertGroup
from receivers import metrics
from receivers.delivery.circuit import circuit_admit
from receivers.delivery.grouping import EARLIER_MESSAGE_REASON, group_window_wait
from receivers.delivery.limits import delivery_rate_take, receiver_rate_key
from receivers.delivery.outbox import notifications_enqueue
from receivers.delivery.reroute import digest_fold, notification_fail_over, notification_give_up
from receivers.delivery.results import DeliveryResult, lease_seconds, metric_labels
from receivers.delivery.rules import (
    DUE_TOLERANCE,
    ClaimFacts,
    grouping_may_hold,
    is_page,
    needs_no_decision,
    not_due,
    too_old,
)
from receivers.models import (
    FINAL_STATES,
    Notification,
    NotificationState,
    Receiver,
)
from receivers.selectors import receivers_for_delivery


@dataclass
class Claim:
    """What the claim decided: send `notification`, or `result` says why not."""

    notification: Notification | None = None
    result: DeliveryResult | None = None
    probe: bool = False
    circuit_seen: tuple | None = None


def notification_postpone(notification: Notification, *, seconds: float, reason: str, now) -> Claim:
    """Put it back without counting an attempt: nothing was sent."""
    notification.state = NotificationState.PENDING
    notification.next_attempt_at = now + timedelta(seconds=seconds)
    notification.last_error = reason
    notification.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
    return Claim(result=DeliveryResult(outcome=None, retry_in=seconds))


def notification_too_old(notification: Notification, now: datetime) -> bool:
    receiver = notification.receiver
    return too_old(
        created_at=notification.created_at,
        max_age_seconds=receiver.max_age_seconds if receiver else 0,
        now=now,
    )


# Postponed while another worker's probe tests a half-open circuit; the
# probe's success releases them (`awaiting_probe_release`).
AWAITING_PROBE_REASON = "circuit half-open: waiting for the probe"


def notification_claim(notification_id: int, *, only_due: bool = False) -> Claim:
    """Decide, under the notification's lock, whether to send it now.

    In order: final or leased elsewhere (nothing to do); too old (give up,
    fail over); circuit open (fail over, or wait for the cool-down); inside
    the grouping window (wait, then carry every alert that came meanwhile);
    over the rate limit (fold into the receiver's digest). Otherwise lease
    it for one attempt.
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("receiver", "alert_group")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.state in FINAL_STATES:
            return Claim(result=DeliveryResult(outcome=None))
        if (
            only_due
            and notification.state == NotificationState.PENDING
            and not_due(next_attempt_at=notification.next_attempt_at, now=now)
        ):
            return Claim(result=DeliveryResult(outcome=None))
        if notification.state == NotificationState.SENDING and notification.next_attempt_at > now:
            wait = (notification.next_attempt_at - now).total_seconds()
            return Claim(result=DeliveryResult(outcome=None, retry_in=wait))
        receiver = notification.receiver
        probe, circuit_seen = False, None
        if receiver is not None and receiver.enabled:
            if notification_too_old(notification, now) and notification.attempts:
                error = notification.last_error or "no attempt succeeded"
                reason = f"gave up after max age: {error}"
                outcome = notification_give_up(notification, reason=reason)
                return Claim(result=DeliveryResult(outcome=outcome))
            admission, circuit_seen = circuit_admit(
                receiver=receiver, now=now, probe_lease_seconds=lease_seconds()
            )
            if not admission.allowed and admission.awaiting_probe:
                return notification_postpone(
                    notification,
                    seconds=admission.wait_seconds,
                    reason=AWAITING_PROBE_REASON,
                    now=now,
                )
            if not admission.allowed:
                metrics.notification_errors_total.labels(
                    **metric_labels(notification), reason="circuit_open"
                ).inc()
                if notification_fail_over(notification, reason="the receiver's circuit is open"):
                    return Claim(result=DeliveryResult(outcome=NotificationState.FAILED_OVER))
                if notification_too_old(notification, now):
                    outcome = notification_give_up(
                        notification, reason="gave up: the circuit stayed open"
                    )
                    return Claim(result=DeliveryResult(outcome=outcome))
                return notification_postpone(
                    notification,
                    seconds=admission.wait_seconds,
                    reason="circuit open: waiting for the cool-down",
                    now=now,
                )
            probe = admission.probe
            page = is_page(notification)
            if grouping_may_hold(
                acknowledgement=notification.acknowledgement, is_digest=notification.is_digest,
                page=page,
            ):
                wait = group_window_wait(notification, now)
                if wait:
                    reason = ("grouping window" if settings.HERALD_GROUP_WINDOW_SECONDS > 0
                              else EARLIER_MESSAGE_REASON)
                    return notification_postpone(
                        notification, seconds=wait, reason=reason, now=now
                    )
            rate = delivery_rate_take(
                tenant_key=connection.tenant.schema_name,
                receiver_key=receiver_rate_key(receiver),
                receiver_rate=receiver.rate_limit,
            )
            if not rate.allowed:
                if notification.is_digest or page:  # a person's page waits, never folds
                    return notification_postpone(
                        notification, seconds=rate.wait_seconds, reason="rate limited", now=now
                    )
                digest_fold(notification, wait=rate.wait_seconds, now=now)
                return Claim(result=DeliveryResult(outcome=NotificationState.FOLDED))
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + timedelta(seconds=lease_seconds())
        notification.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    return Claim(notification=notification, probe=probe, circuit_seen=circuit_seen)


# The facts of each notification, its row locked with SKIP LOCKED: a
# notification another worker holds is left to the one-by-one claim, which
# waits for its lock and then sees its state. The due ones taken along are
# locked as they are chosen, so runners claiming side by side take
# different ones.
_FACTS = """
SELECT n.id, n.receiver_id, n.state, n.next_attempt_at, n.is_digest, r.enabled, n.attempts,
       n.created_at,
       r.max_age_seconds, n.acknowledgement, c.state,
       -- a sibling that may hold it (receivers.delivery.grouping): in flight,
       -- waiting, or delivered within the window; with no window, an earlier
       -- one in flight or waiting. A group's notifications of long ago hold
       -- nothing back, nor do people's pages.
       EXISTS (SELECT 1 FROM receivers_notification s
               WHERE s.receiver_id = n.receiver_id AND s.alert_group_id = n.alert_group_id
                 AND s.id <> n.id AND s.page_id IS NULL AND s.recipient_address = ''
                 AND (%(window)s > 0 OR (s.created_at, s.id) < (n.created_at, n.id))
                 AND (s.state = 'sending'
                      OR (s.state = 'pending' AND NOT s.is_digest AND NOT s.acknowledgement)
                      OR (s.state = 'delivered' AND NOT s.is_digest
                          AND s.delivered_at > %(now)s - %(window)s * interval '1 second'))),
       c.consecutive_failures, c.last_success_at, (SELECT version FROM alerting_config_version),
       -- a person's page (receivers.delivery.rules.is_page)
       (n.page_id IS NOT NULL OR n.recipient_address <> '')
FROM receivers_notification n
JOIN receivers_receiver r ON r.id = n.receiver_id
LEFT JOIN receivers_receivercircuit c ON c.receiver_id = n.receiver_id
-- the lease's commit need not wait for the disk (below), said here rather than
-- in a statement of its own: one round trip less before every first send
CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS lease_needs_no_flush
-- the ids asked for, and up to `extra` of the tenant's other due ones (one
-- array, so the primary key's index finds them all)
WHERE n.id = ANY(%(ids)s::bigint[] || ARRAY(
    SELECT d.id FROM receivers_notification d
    WHERE d.state = 'pending' AND d.next_attempt_at <= %(due_by)s
      AND NOT d.id = ANY(%(ids)s::bigint[])
    ORDER BY d.next_attempt_at LIMIT %(extra)s
    FOR UPDATE SKIP LOCKED))
ORDER BY n.id
FOR UPDATE OF n SKIP LOCKED
"""


# What a message needs of its group; never the group's raw last payload.
# In the model's field order: Model.from_db reads a partial row in that order.
_GROUP_FIELDS = (
    "id",
    "group_key",
    "status",  # what the message says of the group, and the buttons it offers
    "group_labels",
    "common_labels",
    "common_annotations",
    "external_url",
    "truncated_alerts",
    "incident",  # for the action link (escalation.links)
    "acknowledged_at",
    "acknowledged_by",
    "resolved_by",
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
WHERE n.id = ANY(%(ids)s::bigint[]) AND g.id = n.alert_group_id
RETURNING {notification}, {group}
""".format(
    notification=", ".join(f"n.{name}" for name in _NOTIFICATION_FIELDS),
    group=", ".join(f"g.{name}" for name in _GROUP_FIELDS),
)


# A lease is not worth waiting for the disk: its commit returns before the
# WAL is flushed (about a millisecond on the path of every first send), as
# _FACTS sets for the transaction. A lease lost with a PostgreSQL crash
# leaves its notification pending, sent again after recovery with the same
# idempotency key, as after a worker that dies mid-send; the attempt's
# record is committed durably.


@dataclass(frozen=True)
class BatchClaim:
    """What a batch claim leased, and what it learnt of the rest."""

    claimed: list[Notification]
    # Receiver id -> what its circuit looked like (state, failures, last success).
    circuit_seen: dict[int, tuple | None]
    # The configuration version the receivers were read under.
    version: int | None
    # Asked for, but final already: a task that came again has nothing to do.
    settled: frozenset[int]
    # Due ones taken along that need a decision: claimed one by one next.
    to_decide: list[int]
    # Every due one it could take along was taken: more may be due.
    more_due: bool


def batch_claim(
    notification_ids: list[int], *, now: datetime, extra: int = 0, only_due: bool = False
) -> BatchClaim:
    """Lease the notifications that need no decision, and `extra` more of the tenant's due ones.

    Taking due notifications along lets one task send what single-alert
    ingests enqueued one by one; their own tasks then find them settled.
    Those taken along that need a decision are named in `to_decide`.
    """
    asked = set(notification_ids)
    # Server-bound, so PostgreSQL plans both statements once per connection
    # (planning them cost more than running them).
    with transaction.atomic(), server_bound_cursor() as cursor:
        transaction_first_execute(
            cursor,
            _FACTS,
            {
                "ids": list(asked),
                "now": now,
                "due_by": now + DUE_TOLERANCE,
                "extra": extra,
                "window": settings.HERALD_GROUP_WINDOW_SECONDS,
            },
        )
        facts = cursor.fetchall()
        settled = frozenset(row[0] for row in facts if row[2] in FINAL_STATES)
        rows, to_decide = [], []
        for row in facts:
            if needs_no_decision(
                ClaimFacts(*row[2:12], page=row[15]), now=now, only_due=only_due
            ):
                rows.append(row)
            elif row[0] not in asked:
                to_decide.append(row[0])
        more_due = extra > 0 and len(facts) - len(asked & {row[0] for row in facts}) >= extra
        if not rows:
            return BatchClaim([], {}, None, settled, to_decide, more_due)
        version = rows[0][14]
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
            return BatchClaim([], {}, version, settled, to_decide, more_due)
        # With its COMMIT, in one round trip: nothing below runs SQL.
        transaction_last_execute(
            cursor,
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
        row[1]: (row[10], row[12], row[13]) if row[10] is not None else None for row in rows
    }
    return BatchClaim(claimed, circuit_seen, version, settled, to_decide, more_due)


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


def _rate_take(receiver: Receiver, *, count: int) -> bool:
    """All of them within the limits, or none: those over it go one by one into a digest."""
    return delivery_rate_take(
        tenant_key=connection.tenant.schema_name,
        receiver_key=receiver_rate_key(receiver),
        receiver_rate=receiver.rate_limit,
        count=count,
    ).allowed


def awaiting_probe_release(*, receiver_id: int, now: datetime) -> list[int]:
    """The probe closed the circuit: what waited for it is due now, and enqueued on commit."""
    waiting = Notification.objects.filter(
        receiver_id=receiver_id,
        state=NotificationState.PENDING,
        last_error=AWAITING_PROBE_REASON,
        next_attempt_at__gt=now,
    )
    ids = list(waiting.values_list("id", flat=True))
    if ids:
        Notification.objects.filter(id__in=ids).update(next_attempt_at=now, updated_at=now)
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return ids
