"""Silences: one-off windows and weekly maintenance windows in a time zone."""

from datetime import UTC, datetime, time

import pytest

from alerting.matchers import parse_matchers
from alerting.silencing import OneOffWindow, SilenceRule, WeeklyWindow, silence_for

BERLIN = "Europe/Berlin"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_one_off_silence_is_active_from_start_to_end():
    window = OneOffWindow(utc(2026, 11, 23, 10), utc(2026, 11, 23, 12))
    assert not window.active_at(utc(2026, 11, 23, 9, 59))
    assert window.active_at(utc(2026, 11, 23, 10))
    assert not window.active_at(utc(2026, 11, 23, 12))


def test_a_silence_catches_only_matching_alerts_while_active():
    rules = [SilenceRule(7, tuple(parse_matchers('instance=~"db-.*"')),
                         OneOffWindow(utc(2026, 11, 23, 10), utc(2026, 11, 23, 12)))]
    assert silence_for({"instance": "db-1"}, rules, utc(2026, 11, 23, 11)) == 7
    assert silence_for({"instance": "web-1"}, rules, utc(2026, 11, 23, 11)) is None
    assert silence_for({"instance": "db-1"}, rules, utc(2026, 11, 23, 13)) is None


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (utc(2026, 11, 28, 20, 59), False),  # Saturday 21:59 Berlin
        (utc(2026, 11, 28, 21, 0), True),  # Saturday 22:00 Berlin
        (utc(2026, 11, 29, 0, 30), True),  # Sunday 01:30 Berlin, past midnight
        (utc(2026, 11, 29, 1, 0), False),  # Sunday 02:00 Berlin: over
        (utc(2026, 11, 29, 21, 30), False),  # Sunday 22:30: Sunday is not a window day
    ],
)
def test_a_weekly_window_runs_past_midnight(moment, active):
    window = WeeklyWindow(frozenset({5}), time(22, 0), time(2, 0), BERLIN)
    assert window.active_at(moment) is active


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        # 2026-10-25: Berlin falls back from 03:00 CEST to 02:00 CET.
        (utc(2026, 10, 24, 23, 30), True),  # 01:30 CEST
        (utc(2026, 10, 25, 0, 30), True),  # 02:30 CEST, the first 02:30
        (utc(2026, 10, 25, 1, 30), True),  # 02:30 CET, the second 02:30
        (utc(2026, 10, 25, 2, 0), False),  # 03:00 CET
        # 2026-03-29: Berlin springs forward from 02:00 to 03:00.
        (utc(2026, 3, 29, 0, 30), True),  # 01:30 CET
        (utc(2026, 3, 29, 1, 0), False),  # 03:00 CEST: 02:00-03:00 never happened
    ],
)
def test_weekly_windows_keep_wall_clock_times_across_dst(moment, active):
    window = WeeklyWindow(frozenset({6}), time(1, 0), time(3, 0), BERLIN)  # Sundays 01-03
    assert window.active_at(moment) is active
