"""Circuit-breaker decisions (pure): may a receiver be called now, and what follows an outcome.

The state itself is a `ReceiverCircuit` row that every worker shares; the
functions here only say what to do with it, so they are tested without a
database. Closed: calls pass, consecutive failures are counted. Open: no
call until the cool-down has passed. Half-open: exactly one call (the probe)
passes; its success closes the circuit, its failure opens it again.

What waits, and for how long: while the circuit is open (the cool-down has
not passed), a notification fails over to the receiver's fallback if it has
one, or waits for the end of the cool-down. While a probe is in flight, the
others wait for it (`awaiting_probe`) and never fail over: the receiver may
well be back. The probe's success releases them at once; its failure opens
the circuit again (then the open rule applies); a probe whose worker died
is replaced once its lease has run out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class Breaker:
    state: str = CLOSED
    consecutive_failures: int = 0
    opened_at: datetime | None = None
    probe_started_at: datetime | None = None


@dataclass(frozen=True)
class Admission:
    allowed: bool
    breaker: Breaker  # the state to store (a probe marks the circuit half-open)
    wait_seconds: float = 0.0  # when refused: how long until it is worth asking again
    probe: bool = False
    # Refused only because another worker's probe is in flight: wait, don't fail over.
    awaiting_probe: bool = False


def breaker_admit(
    breaker: Breaker, *, now: datetime, cooldown_seconds: float, probe_lease_seconds: float
) -> Admission:
    """May one delivery be attempted now?

    A probe whose worker died (its lease ran out) is replaced by a new one,
    so a half-open circuit cannot stay stuck.
    """
    if breaker.state == CLOSED:
        return Admission(allowed=True, breaker=breaker)
    if breaker.state == OPEN:
        reopen_at = (breaker.opened_at or now) + timedelta(seconds=cooldown_seconds)
        if now < reopen_at:
            return Admission(
                allowed=False, breaker=breaker, wait_seconds=(reopen_at - now).total_seconds()
            )
    elif breaker.probe_started_at is not None:
        probe_ends = breaker.probe_started_at + timedelta(seconds=probe_lease_seconds)
        if now < probe_ends:
            return Admission(
                allowed=False,
                breaker=breaker,
                wait_seconds=(probe_ends - now).total_seconds(),
                awaiting_probe=True,
            )
    return Admission(
        allowed=True, probe=True, breaker=replace(breaker, state=HALF_OPEN, probe_started_at=now)
    )


def breaker_succeeded(breaker: Breaker) -> Breaker:
    return Breaker(state=CLOSED)


def breaker_failed(breaker: Breaker, *, now: datetime, threshold: int) -> Breaker:
    """Count a failure; open at `threshold` in a row, or at once if it was the probe."""
    failures = breaker.consecutive_failures + 1
    if breaker.state == HALF_OPEN or failures >= threshold:
        return Breaker(state=OPEN, consecutive_failures=failures, opened_at=now)
    return replace(breaker, consecutive_failures=failures)


def breaker_health(state: str) -> float:
    """The value of alertmanager_receiver_health: 1 closed, 0.5 half-open, 0 open."""
    return {CLOSED: 1.0, HALF_OPEN: 0.5, OPEN: 0.0}[state]
