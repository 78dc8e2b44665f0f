"""The claim's rules, written once (pure): the batch and the one-by-one claim both ask them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from receivers.models import CircuitState, NotificationState


def too_old(*, created_at: datetime, max_age_seconds: int, now: datetime) -> bool:
    """Past the receiver's maximum age: no further attempt is worth making."""
    return now >= created_at + timedelta(seconds=max_age_seconds)


# A retry's task may run this much before its notification's due time (clocks
# of different hosts): it is still due.
DUE_TOLERANCE = timedelta(seconds=1)


def not_due(*, next_attempt_at: datetime, now: datetime) -> bool:
    """Owed an attempt only later (backoff, a wait): a task that comes early has nothing to do.

    Its own retry, or the sweep, brings it back when it is due.
    """
    return next_attempt_at > now + DUE_TOLERANCE


def is_page(notification) -> bool:
    """A person's page (escalation.paging): sent to their address, alone, as it is.

    Never merged by the grouping window, folded into a digest or failed over
    to the carrier receiver's fallback; never counted as the group's firing
    told to the carrier receiver. The address marks it even after its page
    row is gone.
    """
    return notification.page_id is not None or bool(notification.recipient_address)


def grouping_may_hold(*, acknowledgement: bool, is_digest: bool, page: bool = False) -> bool:
    """May its group's other messages to the receiver hold this notification back?

    With a grouping window, they hold it for the window; with none
    (HERALD_GROUP_WINDOW_SECONDS=0), an earlier one still in flight or owed
    holds it until that one is sent, so a resolve never overtakes its firing.
    """
    return not acknowledgement and not is_digest and not page


@dataclass(frozen=True)
class ClaimFacts:
    """What the rules need to know of a notification, as the batch claim reads it."""

    state: str
    next_attempt_at: datetime
    is_digest: bool
    receiver_enabled: bool
    attempts: int
    created_at: datetime
    max_age_seconds: int
    acknowledgement: bool
    circuit_state: str | None
    # Another notification of its group for the same receiver that may hold
    # it: sending, waiting, or delivered within the grouping window; with no
    # window, an earlier one sending or waiting.
    window_sibling: bool
    # A person's page (`is_page`): the grouping window never holds it.
    page: bool = False


def needs_no_decision(facts: ClaimFacts, *, now: datetime, only_due: bool = False) -> bool:
    """May it be sent in a batch? Anything else is claimed one by one, and decided there.

    `only_due`: a task asks; one that comes before its notification is due is
    a duplicate (its notification was taken along by another task).
    """
    return (
        facts.state == NotificationState.PENDING
        and not (only_due and not_due(next_attempt_at=facts.next_attempt_at, now=now))
        and not facts.is_digest
        and facts.receiver_enabled
        and not (
            facts.attempts
            and too_old(created_at=facts.created_at, max_age_seconds=facts.max_age_seconds,
                        now=now)
        )
        and facts.circuit_state in (None, CircuitState.CLOSED)
        and not (
            facts.window_sibling
            and grouping_may_hold(
                acknowledgement=facts.acknowledgement, is_digest=False, page=facts.page
            )
        )
    )
