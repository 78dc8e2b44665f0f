"""The DST rule: which instant a wall-clock time of a schedule's zone means.

Handoffs and restriction windows are written on the wall clock of the
schedule's zone ("Mondays at 09:00 in Europe/Berlin"). Most wall-clock times
name exactly one instant; around a DST change some name two or none:

- A wall-clock time that occurs twice (the repeated hour when clocks go
  back) means its FIRST occurrence (fold=0): a 01:30 handoff on the night New
  York falls back happens at 01:30 EDT, not at 01:30 EST an hour later.
- A wall-clock time that does not exist (the hour skipped when clocks go
  forward) means the FIRST VALID INSTANT AFTER IT, which is the instant of
  the change: a 02:30 handoff on the night New York springs forward happens
  at 03:00 EDT; in Australia/Lord_Howe (30-minute DST) 02:10 means 02:30.

The mapping never goes backwards (a later wall-clock time never maps to an
earlier instant), so consecutive handoffs give shifts that meet exactly: no
gap and no overlap, ever. Two wall-clock times can map to the same instant
(02:00 and 03:00 on a spring-forward night in New York both mean 03:00 EDT):
the shift between them has zero length and is skipped, so the person whose
turn it was has no time on call that night and the next shift starts on time.
A shift's real length is its wall-clock length corrected by the change: a
24-hour daily shift across a change lasts 23 or 25 hours, never otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_SECOND = timedelta(seconds=1)


def wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (aware, UTC) that the naive wall-clock time `wall` means in `zone`."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    return _change_instant(wall, zone)


def instant_to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of `instant` in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _change_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a skipped wall-clock time's gap ends: the first valid one after it.

    Read with the offset after the change (fold=1), `wall` lies before the
    change; with the offset before it (fold=0), after it. The change is found
    between the two by halving, to the second (zone changes fall on whole
    seconds).
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if before > after:
        before, after = after, before
    offset_after = after.astimezone(zone).utcoffset()
    low, high = 0, int((after - before).total_seconds())
    while low < high:  # the first second whose offset is the one after the change
        middle = (low + high) // 2
        if (before + middle * _SECOND).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle + 1
    return before + low * _SECOND


def day_start(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant the local day of `instant` starts (midnight, by the rule above)."""
    wall = instant_to_wall(instant, zone)
    return wall_to_instant(wall.replace(hour=0, minute=0, second=0, microsecond=0), zone)
