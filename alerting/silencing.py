"""Whether a silence is active and which alerts it catches (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerting.matchers import Matcher, matches_all


@dataclass(frozen=True)
class OneOffWindow:
    starts_at: datetime
    ends_at: datetime

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class WeeklyWindow:
    """Wall-clock times in a time zone, so 02:00 stays 02:00 across DST changes.

    An end before (or at) the start means the window runs past midnight into
    the next day.
    """

    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    time_zone: str

    def active_at(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.time_zone))
        clock, today = local.time().replace(tzinfo=None), local.weekday()
        if self.start < self.end:
            return today in self.weekdays and self.start <= clock < self.end
        yesterday = (local - timedelta(days=1)).weekday()
        return (today in self.weekdays and clock >= self.start) or (
            yesterday in self.weekdays and clock < self.end
        )


@dataclass(frozen=True)
class SilenceRule:
    id: int
    matchers: tuple[Matcher, ...]
    window: OneOffWindow | WeeklyWindow

    def silences(self, labels: dict[str, str], now: datetime) -> bool:
        return self.window.active_at(now) and matches_all(list(self.matchers), labels)


def silence_for(labels: dict[str, str], rules: Sequence[SilenceRule], now: datetime) -> int | None:
    """The id of the first active silence that catches these labels, if any."""
    for rule in rules:
        if rule.silences(labels, now):
            return rule.id
    return None
