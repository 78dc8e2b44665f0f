"""Business hours in a tenant's time zone (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class HoursWindow:
    weekday: int  # 0 = Monday
    start: time
    end: time


def _local_spans(day: date, windows: list[HoursWindow], zone: ZoneInfo):
    for window in windows:
        if window.weekday == day.weekday() and window.start < window.end:
            yield (
                datetime.combine(day, window.start, tzinfo=zone),
                datetime.combine(day, window.end, tzinfo=zone),
            )


def _spans_around(now: datetime, windows: list[HoursWindow], zone: ZoneInfo):
    """Business-hour spans from yesterday to a week ahead, merged and sorted."""
    today = now.astimezone(zone).date()
    spans = sorted(
        span
        for offset in range(-1, 9)
        for span in _local_spans(today + timedelta(days=offset), windows, zone)
    )
    merged: list[list[datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def in_business_hours(now: datetime, windows: list[HoursWindow], time_zone: str) -> bool:
    zone = ZoneInfo(time_zone)
    return any(start <= now < end for start, end in _spans_around(now, windows, zone))


def next_allowed(
    now: datetime, windows: list[HoursWindow], time_zone: str, *, inside: bool
) -> datetime | None:
    """The first moment from `now` that is inside (or outside) business hours.

    None when that never happens (no business hours, and inside is wanted).
    """
    spans = _spans_around(now, windows, ZoneInfo(time_zone))
    if inside:
        for start, end in spans:
            if now < end:
                return max(now, start)
        return None
    for start, end in spans:
        if start <= now < end:
            now = end  # outside begins when this stretch of business hours ends
    return now
