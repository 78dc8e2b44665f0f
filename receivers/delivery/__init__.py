"""Delivery, the worker's half of an alert's path: one home, one entry point.

    outbox      notifications written with the alerts, enqueued on commit; the sweep
    wake        how a transaction that wrote notifications wakes a worker (NOTIFY or a task)
    relay       the worker thread that hears the wakes and starts deliveries at once
    deliver     the entry point: claim, send, record a batch of notifications
    claim       what may be sent now (leased), and what waits, folds or fails over
    rules       the claim's rules, written once (pure)
    send        one prepared send through the receiver's transport
    threads     which thread each send of a batch runs in; fairness: per-tenant slots
    record      the attempt, the notification's next state, the circuit
    reroute     digest, fallback receiver, failed for good
    grouping    the grouping window
    circuit, breaker, limits, backoff, digest   the rules those steps apply
    manual      test sends and "retry now" from the admin

Other apps call what is imported here.
"""

from receivers.delivery.deliver import notification_deliver, notifications_deliver
from receivers.delivery.manual import RetryError, notification_retry, receiver_test_send
from receivers.delivery.noise_fold import alerts_fold_into_digests
from receivers.delivery.outbox import (
    notification_bulk_create,
    notification_sweep,
    notifications_enqueue,
)
from receivers.delivery.results import DeliveryResult
from receivers.delivery.wake import notifications_wake

__all__ = [
    "DeliveryResult",
    "RetryError",
    "alerts_fold_into_digests",
    "notification_bulk_create",
    "notification_deliver",
    "notification_retry",
    "notification_sweep",
    "notifications_deliver",
    "notifications_enqueue",
    "notifications_wake",
    "receiver_test_send",
]
