"""Restrictions by example: weekday windows, overnight windows, read on the local wall clock."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from escalation.schedules import RestrictionSpec, on_call_at, shifts_between
from tests.escalation.schedules.builders import ALICE, BOB, CAROL, layer, schedule, utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_17 = tuple(RestrictionSpec(day, time(9), time(17)) for day in range(5))


def test_business_hours_leave_the_evenings_and_the_weekend_to_the_layer_below():
    day_shift = layer(1, members=(ALICE,), priority=1, restrictions=WEEKDAYS_9_TO_17)
    backstop = layer(2, members=(BOB,), unit="days")
    spec = schedule(day_shift, backstop, zone="Europe/Berlin")
    assert on_call_at(spec, utc(2026, 1, 7, 8)).people == (ALICE,)  # Wednesday 09:00 Berlin
    assert on_call_at(spec, utc(2026, 1, 7, 7, 59)).people == (BOB,)
    assert on_call_at(spec, utc(2026, 1, 7, 16)).people == (BOB,)  # 17:00 Berlin: closed
    assert on_call_at(spec, utc(2026, 1, 10, 12)).people == (BOB,)  # Saturday
    assert on_call_at(spec, utc(2026, 1, 10, 12), layer_id=1).people == ()


def test_an_overnight_window_runs_from_the_evening_into_the_next_morning():
    nights = layer(members=(CAROL,), restrictions=(RestrictionSpec(4, time(22), time(6)),))
    spec = schedule(nights, zone="America/New_York")  # Friday nights only
    friday_late = utc(2026, 1, 10, 3, 30)  # Friday 22:30 EST
    saturday_early = utc(2026, 1, 10, 10, 59)  # Saturday 05:59 EST
    assert on_call_at(spec, friday_late).people == (CAROL,)
    assert on_call_at(spec, saturday_early).people == (CAROL,)
    assert on_call_at(spec, utc(2026, 1, 10, 11)).people == ()  # 06:00: over
    assert on_call_at(spec, utc(2026, 1, 11, 4)).people == ()  # Saturday 23:00: not Friday


def test_a_restricted_layer_over_a_range_shows_its_windows_as_segments():
    spec = schedule(layer(members=(ALICE,), restrictions=WEEKDAYS_9_TO_17), zone="UTC")
    shifts = shifts_between(spec, utc(2026, 1, 12), utc(2026, 1, 13))
    assert [(s.start.hour, s.end.hour, s.people) for s in shifts] == [
        (0, 9, ()), (9, 17, (ALICE,)), (17, 0, ())
    ]


def test_a_window_edge_in_the_skipped_hour_opens_when_the_clocks_have_gone_forward():
    spec = schedule(
        layer(members=(ALICE,), start=date(2026, 3, 1),
              restrictions=(RestrictionSpec(None, time(2, 30), time(8)),)),
        zone="America/New_York",
    )
    shifts = shifts_between(spec, utc(2026, 3, 8, 5), utc(2026, 3, 8, 13))
    opened = next(s for s in shifts if s.people)
    assert opened.start.astimezone(NEW_YORK).isoformat() == "2026-03-08T03:00:00-04:00"
    assert opened.duration == timedelta(hours=5)  # 03:00 to 08:00 EDT


def test_a_window_across_the_repeated_hour_lasts_an_hour_longer_in_real_time():
    spec = schedule(
        layer(members=(ALICE,), start=date(2026, 10, 1),
              restrictions=(RestrictionSpec(None, time(0), time(4)),)),
        zone="America/New_York",
    )
    (window,) = [s for s in shifts_between(spec, utc(2026, 11, 1), utc(2026, 11, 2)) if s.people]
    assert window.duration == timedelta(hours=5)
