"""The silence sweep's entry in the due-work index (tenants/due_work.py).

A held-back alert is released when its silence ends, so the sweep is due at
the next end of any silence of the tenant, whether or not it holds an alert
yet (ingest may hold one later without telling the index).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from alerting.models import Silence
from alerting.selectors import silence_rules
from alerting.silencing import OneOffWindow, SilenceRule, WeeklyWindow
from tenants.due_work import due_work_note
from tenants.models_due import DueKind


def window_next_end(window: OneOffWindow | WeeklyWindow, now: datetime) -> datetime | None:
    """The next time at or after `now` the window may end (pure; never later than it does).

    A weekly window ends at its end time on some day: the next such wall-clock
    time is a lower bound (a wasted visit on the days it is not active).
    """
    if isinstance(window, OneOffWindow):
        return window.ends_at if window.ends_at > now else None
    zone = ZoneInfo(window.time_zone)
    local = now.astimezone(zone)
    candidate = local.replace(hour=window.end.hour, minute=window.end.minute,
                              second=window.end.second, microsecond=0)
    if candidate <= local:
        # Wall-clock arithmetic: the same time tomorrow, whatever DST does.
        candidate = (candidate.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return candidate.astimezone(UTC)


def silences_next_end(rules: Iterable[SilenceRule], now: datetime) -> datetime | None:
    ends = [end for rule in rules if (end := window_next_end(rule.window, now)) is not None]
    return min(ends, default=None)


def silences_due_run() -> int:
    from alerting.services import silences_ended_notify  # services import this module

    return silences_ended_notify()


def silences_next_due_at(*, now: datetime) -> datetime | None:
    return silences_next_end(silence_rules(now=now), now)


def silence_due_note(*, silence: Silence) -> None:
    """After a silence is written: the sweep is due when it ends (or, weekly, may end)."""
    now = timezone.now()
    for rule in silence_rules(now=now):
        if rule.id == silence.id:
            end = window_next_end(rule.window, now)
            if end is not None:
                due_work_note(kind=DueKind.SILENCES, due_at=end)
            return
    # Ended already (or malformed): a visit now releases what it held.
    due_work_note(kind=DueKind.SILENCES, due_at=now)
