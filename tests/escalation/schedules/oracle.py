"""For the property tests: an independent reading of the DST rule; a zone's offset changes.

The rule, restated without the engine's code: the instant a wall-clock time
`w` means is the FIRST instant whose wall clock reads `w` or later. (A time
that exists once: that instant; twice: its first occurrence; never: the
instant the clocks jump past it.) That first instant either reads exactly
`w` (so it is `w` minus one of the zone's offsets) or it is an instant at
which the zone's offset changes; the oracle tries those candidates.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
)
FIRST, LAST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2041, 1, 1, tzinfo=UTC)


def local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Every instant from 2000 to 2040 at which the zone's UTC offset changes (to the second)."""
    zone = ZoneInfo(zone_name)
    found = []
    day = FIRST
    offset = day.astimezone(zone).utcoffset()
    while day < LAST:
        following = day + timedelta(days=1)
        next_offset = following.astimezone(zone).utcoffset()
        if next_offset != offset:
            low, high = 0, 86400  # the first second of the day with the new offset
            while low < high:
                middle = (low + high) // 2
                if (day + timedelta(seconds=middle)).astimezone(zone).utcoffset() == offset:
                    low = middle + 1
                else:
                    high = middle
            found.append(day + timedelta(seconds=low))
        day, offset = following, next_offset
    return tuple(found)


def moments(zone_name: str) -> tuple[datetime, ...]:
    """The instants to test around: the zone's changes, or (no DST) two a year."""
    changes = transitions(zone_name)
    if changes:
        return changes
    return tuple(
        datetime(year, month, 1, 2, 30, tzinfo=UTC) for year in range(2000, 2041)
        for month in (3, 10)
    )


def instant_of(wall: datetime, zone_name: str) -> datetime:
    """The first instant whose wall clock in the zone reads `wall` or later."""
    zone = ZoneInfo(zone_name)
    rough = wall.replace(tzinfo=UTC)
    changes = transitions(zone_name)
    nearby = list(changes[bisect_left(changes, rough - timedelta(days=2)):
                          bisect_right(changes, rough + timedelta(days=2))])
    offsets = {
        instant.astimezone(zone).utcoffset()
        for instant in (rough - timedelta(days=2), rough + timedelta(days=2), *nearby)
    }
    candidates = [rough - offset for offset in offsets] + nearby
    return min(c for c in candidates if local(c, zone) >= wall)


def reads_once(wall: datetime, zone_name: str) -> bool:
    """Whether the wall-clock time occurs exactly once (not skipped, not repeated)."""
    zone = ZoneInfo(zone_name)
    readings = {
        (wall.replace(tzinfo=zone, fold=fold)).astimezone(UTC) for fold in (0, 1)
    }
    return len(readings) == 1 and local(readings.pop(), zone) == wall


def shift_starts(base: datetime, step: timedelta, first: int, last: int,
                 zone_name: str) -> list[tuple[int, datetime]]:
    """(k, instant shift k starts) for k in [first, last], by the oracle."""
    return [(k, instant_of(base + k * step, zone_name)) for k in range(first, last + 1)]


def on_duty_index(starts: list[tuple[int, datetime]], at: datetime) -> int:
    """The largest k whose start is not after `at` (the starts must reach before `at`)."""
    index = None
    for k, start in starts:
        if start <= at:
            index = k
    assert index is not None, "the oracle's shifts start after the instant asked about"
    return index
