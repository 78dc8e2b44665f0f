"""What a schedule's segments add up to: its gaps, and each person's share of a layer."""

from __future__ import annotations

from datetime import datetime, timedelta

from escalation.schedules.shifts import shifts_between
from escalation.schedules.spec import ScheduleSpec


def coverage_gaps(
    spec: ScheduleSpec, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The ranges in [start, end) in which nobody is on call, everything applied."""
    gaps: list[tuple[datetime, datetime]] = []
    for shift in shifts_between(spec, start, end):
        if shift.people:
            continue
        if gaps and gaps[-1][1] == shift.start:
            gaps[-1] = (gaps[-1][0], shift.end)
        else:
            gaps.append((shift.start, shift.end))
    return gaps


def layer_shares(
    spec: ScheduleSpec, layer_id: int, start: datetime, end: datetime
) -> dict[int, timedelta]:
    """Real time on call per member of the layer in [start, end), restrictions applied.

    Every member is in the result, with zero when they had no time on call,
    so an unbalanced rotation shows.
    """
    shares = dict.fromkeys(spec.layer(layer_id).members, timedelta(0))
    for shift in shifts_between(spec, start, end, layer_id=layer_id):
        for person in shift.people:
            shares[person] = shares.get(person, timedelta(0)) + shift.duration
    return shares
