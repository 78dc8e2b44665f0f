"""Writes on receivers' circuit breakers: the shared `ReceiverCircuit` row, under its lock.

Why PostgreSQL and not a library's Redis storage (pybreaker): a transition
(open -> half-open with exactly one probe) must be atomic across every
worker process and machine, which a row lock gives for free; the state sits
in the tenant's schema beside the receiver, so the admin reads it with an
ordinary query and tenants stay isolated; and it works the same whichever
broker Herald uses. The decisions themselves are in receivers.delivery.breaker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from receivers import metrics
from receivers.delivery.breaker import (
    Admission,
    Breaker,
    breaker_admit,
    breaker_failed,
    breaker_health,
    breaker_succeeded,
)
from receivers.models import CircuitState, Receiver, ReceiverCircuit

# A success refreshes `last_success_at` at most this often while the circuit
# is closed: every delivery writing the same row would serialise the workers.
_SUCCESS_REFRESH = timedelta(seconds=5)


def _breaker_of(circuit: ReceiverCircuit) -> Breaker:
    return Breaker(
        state=circuit.state,
        consecutive_failures=circuit.consecutive_failures,
        opened_at=circuit.opened_at,
        probe_started_at=circuit.probe_started_at,
    )


def _store(circuit: ReceiverCircuit, breaker: Breaker) -> None:
    circuit.state = breaker.state
    circuit.consecutive_failures = breaker.consecutive_failures
    circuit.opened_at = breaker.opened_at
    circuit.probe_started_at = breaker.probe_started_at


def _locked(receiver: Receiver) -> ReceiverCircuit:
    ReceiverCircuit.objects.get_or_create(receiver=receiver)
    return ReceiverCircuit.objects.select_for_update().get(receiver=receiver)


def _gauge(receiver: Receiver, state: str) -> None:
    metrics.receiver_health.labels(
        tenant=metrics.tenant_label(), receiver=receiver.name, channel=receiver.kind
    ).set(breaker_health(state))


def circuit_admit(
    *, receiver: Receiver, now: datetime, probe_lease_seconds: float
) -> tuple[Admission, tuple | None]:
    """May a delivery to `receiver` be attempted now? Marks a probe when half-opening.

    Also returns what was read of the circuit (state, failures, last success),
    for `circuit_record_success` to skip a write that would change nothing.
    """
    seen = (
        ReceiverCircuit.objects.filter(receiver=receiver)
        .values_list("state", "consecutive_failures", "last_success_at")
        .first()
    )
    if seen is None or seen[0] == CircuitState.CLOSED:  # the common case takes no lock
        return Admission(allowed=True, breaker=Breaker()), seen
    with transaction.atomic():
        circuit = _locked(receiver)
        admission = breaker_admit(
            _breaker_of(circuit),
            now=now,
            cooldown_seconds=settings.HERALD_BREAKER_COOLDOWN_SECONDS,
            probe_lease_seconds=probe_lease_seconds,
        )
        if admission.probe:
            _store(circuit, admission.breaker)
            circuit.save()
            _gauge(receiver, circuit.state)
    return admission, None


def circuit_record_success(*, receiver: Receiver, now: datetime, seen: tuple | None) -> bool:
    """Record a delivered send; True if it was the probe that closed a half-open circuit."""
    if seen is not None:
        state, failures, last_success_at = seen
        if (
            state == CircuitState.CLOSED
            and failures == 0
            and last_success_at is not None
            and now - last_success_at < _SUCCESS_REFRESH
        ):
            return False
    with transaction.atomic():
        circuit = _locked(receiver)
        was_half_open = circuit.state == CircuitState.HALF_OPEN
        _store(circuit, breaker_succeeded(_breaker_of(circuit)))
        circuit.last_success_at = now
        circuit.save()
    _gauge(receiver, circuit.state)
    return was_half_open


def circuit_record_failure(*, receiver: Receiver, now: datetime, error: str) -> str:
    """Count a failure that says the receiver is down; returns the new state."""
    with transaction.atomic():
        circuit = _locked(receiver)
        _store(
            circuit,
            breaker_failed(
                _breaker_of(circuit), now=now, threshold=settings.HERALD_BREAKER_FAILURE_THRESHOLD
            ),
        )
        circuit.last_failure_at = now
        circuit.last_error = error[:1000]
        circuit.save()
    _gauge(receiver, circuit.state)
    return circuit.state
