"""A layer's restrictions: the wall-clock windows in which it has someone on call.

A layer without restrictions always has its person on duty. With some, it has
its person only inside one of their windows: a window opens at `start_time`
on its weekday (0 = Monday; every day when None) and closes at `end_time` of
the same day, or of the next day when `end_time` is not after `start_time`
("22:00-06:00" crosses midnight). Window edges are wall-clock times read by
the DST rule of escalation/schedules/wallclock.py: an edge in a skipped hour
means the change's instant, an edge in a repeated hour its first occurrence.
Restrictions do not move handoffs: the rotation's person on duty at an
instant is on call if the instant is inside a window.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from escalation.schedules.spec import RestrictionSpec
from escalation.schedules.wallclock import instant_to_wall, wall_to_instant

_DAY = timedelta(days=1)


class Windows:
    """A layer's restriction windows, as instants, for any local day (memoised)."""

    __slots__ = ("_by_day", "restrictions", "zone")

    def __init__(self, restrictions: tuple[RestrictionSpec, ...], zone: ZoneInfo) -> None:
        self.restrictions = restrictions
        self.zone = zone
        self._by_day: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    def opening_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The windows that open on local `day`, as [start, end) instants."""
        windows = self._by_day.get(day)
        if windows is None:
            windows = tuple(
                self._window(day, restriction)
                for restriction in self.restrictions
                if restriction.weekday is None or restriction.weekday == day.weekday()
            )
            if len(self._by_day) > 4096:  # bounded: a long-lived spec asked about many days
                self._by_day.clear()
            self._by_day[day] = windows
        return windows

    def _window(self, day: date, restriction: RestrictionSpec) -> tuple[datetime, datetime]:
        end_day = day + _DAY if restriction.crosses_midnight else day
        return (
            wall_to_instant(datetime.combine(day, restriction.start_time), self.zone),
            wall_to_instant(datetime.combine(end_day, restriction.end_time), self.zone),
        )

    def allows(self, at: datetime) -> bool:
        """Whether `at` is inside a window (always, when there are no restrictions)."""
        if not self.restrictions:
            return True
        today = instant_to_wall(at, self.zone).date()
        # Yesterday's window may still be open (it crosses midnight); around
        # a change that falls back at midnight, tomorrow's may have opened.
        for day in (today, today - _DAY, today + _DAY):
            for start, end in self.opening_on(day):
                if start <= at < end:
                    return True
        return False

    def edges(self, start: datetime, end: datetime) -> list[datetime]:
        """The instants in (start, end) at which a window opens or closes."""
        if not self.restrictions:
            return []
        found: list[datetime] = []
        day = instant_to_wall(start, self.zone).date() - _DAY
        last = instant_to_wall(end, self.zone).date()
        while day <= last:
            for opens, closes in self.opening_on(day):
                found.extend(edge for edge in (opens, closes) if start < edge < end)
            day += _DAY
        return found
