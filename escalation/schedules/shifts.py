"""Who is on call over a range, as segments: walk the instants where it may change.

The result can only change at a handoff, a restriction window's edge, an
override's or a temporary schedule's (or its shift's) start or end. Those
instants are enumerated (escalation/schedules/oncall.py) and the schedule is
asked once per piece between two of them; neighbours with the same answer
are merged. Nothing is sampled, so a segment's edges are exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from escalation.schedules.spec import ScheduleSpec, Shift

# A tenant can ask for any range; what one call walks is bounded (an hourly
# rotation over this range is about 26,000 handoffs per layer).
MAX_RANGE = timedelta(days=3 * 366)


class RangeTooLong(ValueError):
    """The range asked for is longer than MAX_RANGE."""


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("shifts_between needs aware datetimes")
    if end - start > MAX_RANGE:
        raise RangeTooLong(f"a range of at most {MAX_RANGE.days} days, not {(end - start).days}")


def shifts_between(
    spec: ScheduleSpec, start: datetime, end: datetime, *, layer_id: int | None = None
) -> list[Shift]:
    """Consecutive segments tiling [start, end) over which who is on call does not change.

    A segment with no people is a gap. With `layer_id`: that layer alone (as
    `on_call_at(..., layer_id=...)`). Empty when `end` is not after `start`.
    """
    _check_range(start, end)
    if not start < end:
        return []
    prepared = spec.prepared
    cuts = [start, *prepared.edges(start, end, layer_id), end]
    shifts: list[Shift] = []
    for piece_start, piece_end in pairwise(cuts):
        answer = prepared.at(piece_start, layer_id)
        last = shifts[-1] if shifts else None
        if (
            last is not None
            and last.people == answer.people
            and last.source == answer.source
            and last.layer_id == answer.layer_id
        ):
            shifts[-1] = Shift(last.start, piece_end, last.people, last.source, last.layer_id)
        else:
            shifts.append(
                Shift(piece_start, piece_end, answer.people, answer.source, answer.layer_id)
            )
    return shifts
