"""Which alert state changes deserve a notification (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from alerting.models import AlertStatus


@dataclass(frozen=True)
class AlertStateChange:
    """An alert as stored by ingest, beside the state it replaced ('' if new)."""

    fingerprint: str
    status: str
    previous_status: str
    started_anew: bool  # its startsAt differs from the stored one (or it is new)
    was_suppressed: bool = False
    # It was stored under another groupKey before: this group has no history
    # of it but what it was told (statuses notified at this startsAt).
    moved: bool = False
    told_in_group: frozenset[str] = frozenset()


def needs_notification(change: AlertStateChange) -> bool:
    """Fingerprint + status + startsAt identify an alert state.

    A firing alert notifies when it is new, was resolved, or fires again with
    a new startsAt. A resolved alert notifies only if someone heard it fire: a
    resolve for an alert never seen, or held back by a silence, is stored but
    is no news to anyone.

    An alert that moved from another group is news to this one unless this
    group was told already (a `continue` route can keep one alert in two
    groups, each posting it): firing, if it was not told it fires; resolved,
    if it was told it fires and not yet that it resolved.
    """
    if change.moved:
        told = change.told_in_group
        if change.status == AlertStatus.FIRING:
            return AlertStatus.FIRING not in told
        return (
            AlertStatus.FIRING in told
            and AlertStatus.RESOLVED not in told
            and not change.was_suppressed
        )
    if change.status == AlertStatus.FIRING:
        return change.previous_status != AlertStatus.FIRING or change.started_anew
    return change.previous_status == AlertStatus.FIRING and not change.was_suppressed


def alerts_to_notify(changes: list[AlertStateChange]) -> list[AlertStateChange]:
    return [change for change in changes if needs_notification(change)]
