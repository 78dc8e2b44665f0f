"""The schedule page's timeline: each layer's shifts and the final result, as bars (pure).

Days start at midnight on the schedule's wall clock (escalation.schedules'
DST rule), so a day across a DST change is 23 or 25 hours wide on the
timeline, as it really is. A final-result segment with nobody is a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from escalation.schedules import ScheduleSpec, Shift, shifts_between
from escalation.schedules.wallclock import day_start, instant_to_wall, wall_to_instant

TIMELINE_DAYS = 14


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    people: tuple[int, ...]
    names: str  # "Alice, Bob"; "" when nobody
    source: str
    left: float  # percent of the timeline's width
    width: float

    @property
    def gap(self) -> bool:
        return not self.people


@dataclass(frozen=True)
class Row:
    name: str
    bars: tuple[Bar, ...]
    final: bool = False


@dataclass(frozen=True)
class Day:
    start: datetime
    left: float
    width: float


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    zone: ZoneInfo
    days: tuple[Day, ...]
    rows: tuple[Row, ...]  # the layers, highest first, then the final result

    @property
    def final(self) -> Row:
        return self.rows[-1]

    @property
    def gaps(self) -> tuple[Bar, ...]:
        return tuple(bar for bar in self.final.bars if bar.gap)


def timeline_window(*, now: datetime, zone: ZoneInfo,
                    days: int = TIMELINE_DAYS) -> tuple[datetime, datetime]:
    """From the start of today on the schedule's wall clock, `days` wall-clock days on."""
    start = day_start(now, zone)
    last = instant_to_wall(start, zone).date() + timedelta(days=days)
    return start, wall_to_instant(datetime.combine(last, time(0)), zone)


def _percent(at: datetime, start: datetime, total: float) -> float:
    return round((at - start).total_seconds() / total * 100, 3)


def _bars(shifts: list[Shift], *, start: datetime, end: datetime,
          names: dict[int, str]) -> tuple[Bar, ...]:
    total = (end - start).total_seconds()
    return tuple(
        Bar(
            start=shift.start, end=shift.end, people=shift.people,
            names=", ".join(names.get(person, f"person {person}") for person in shift.people),
            source=shift.source,
            left=_percent(shift.start, start, total),
            width=_percent(shift.end, start, total) - _percent(shift.start, start, total),
        )
        for shift in shifts
    )


def schedule_timeline(
    spec: ScheduleSpec, *, now: datetime, names: dict[int, str], days: int = TIMELINE_DAYS,
) -> Timeline:
    zone = ZoneInfo(spec.time_zone)
    start, end = timeline_window(now=now, zone=zone, days=days)
    total = (end - start).total_seconds()
    day_starts = []
    for n in range(days):
        wall = datetime.combine(instant_to_wall(start, zone).date() + timedelta(days=n), time(0))
        day_starts.append(wall_to_instant(wall, zone))
    day_starts.append(end)
    day_list = tuple(
        Day(start=day, left=_percent(day, start, total),
            width=_percent(following, start, total) - _percent(day, start, total))
        for day, following in pairwise(day_starts)
    )
    rows = [
        Row(name=layer.name, bars=_bars(
            shifts_between(spec, start, end, layer_id=layer.layer_id),
            start=start, end=end, names=names,
        ))
        for layer in spec.layers
    ]
    rows.append(Row(name="Final result", final=True, bars=_bars(
        shifts_between(spec, start, end), start=start, end=end, names=names,
    )))
    return Timeline(start=start, end=end, zone=zone, days=day_list, rows=tuple(rows))
