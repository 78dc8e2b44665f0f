"""Rotations by example: who has the shift, when they hand off, on the schedule's wall clock."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from escalation.schedules import OnCall, on_call_at, shifts_between
from tests.escalation.schedules.builders import ALICE, BOB, CAROL, layer, schedule, utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_a_weekly_rotation_hands_off_on_monday_mornings_in_turn():
    spec = schedule(layer(members=(ALICE, BOB, CAROL)))  # from Monday 2026-01-05 09:00 UTC
    assert on_call_at(spec, utc(2026, 1, 5, 9)) == OnCall((ALICE,), "layer", 1)
    assert on_call_at(spec, utc(2026, 1, 12, 8, 59)).people == (ALICE,)
    assert on_call_at(spec, utc(2026, 1, 12, 9)).people == (BOB,)
    assert on_call_at(spec, utc(2026, 1, 19, 9)).people == (CAROL,)
    assert on_call_at(spec, utc(2026, 1, 26, 9)).people == (ALICE,)


def test_before_its_first_shift_a_layer_has_nobody():
    spec = schedule(layer())
    assert on_call_at(spec, utc(2026, 1, 5, 8, 59)) == OnCall((), "nobody", None)


def test_the_start_position_picks_who_takes_the_first_shift():
    spec = schedule(layer(members=(ALICE, BOB, CAROL), position=2))
    assert on_call_at(spec, utc(2026, 1, 6)).people == (CAROL,)
    assert on_call_at(spec, utc(2026, 1, 13)).people == (ALICE,)


def test_a_daily_handoff_stays_at_nine_local_across_the_spring_change():
    spec = schedule(
        layer(members=(ALICE, BOB), start=date(2026, 3, 27), unit="days"), zone="Europe/Berlin"
    )
    shifts = shifts_between(spec, utc(2026, 3, 28), utc(2026, 3, 30, 12))
    assert [s.start.astimezone(BERLIN).hour for s in shifts[1:]] == [9, 9, 9]
    # The shift over the night clocks go forward lasts 23 hours of real time.
    assert shifts[1].duration == timedelta(hours=23)
    assert shifts[2].start - shifts[1].start == timedelta(hours=23)


def test_an_hourly_rotation_gives_the_repeated_hour_to_whoever_started_it():
    spec = schedule(
        layer(members=(ALICE, BOB), start=date(2026, 10, 31), handoff=time(0), length=1,
              unit="hours"),
        zone="America/New_York",
    )
    one_edt = utc(2026, 11, 1, 5)  # 01:00 EDT; 01:00 EST is an hour later
    shift = next(s for s in shifts_between(spec, utc(2026, 11, 1), utc(2026, 11, 1, 9))
                 if s.start == one_edt)
    assert shift.duration == timedelta(hours=2)
    assert on_call_at(spec, one_edt).people == on_call_at(spec, utc(2026, 11, 1, 6, 30)).people


def test_a_handoff_in_the_skipped_hour_happens_when_the_clocks_have_gone_forward():
    spec = schedule(
        layer(members=(ALICE, BOB), start=date(2026, 3, 1), handoff=time(2, 30), unit="days"),
        zone="America/New_York",
    )
    shifts = shifts_between(spec, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert shifts[1].start.astimezone(NEW_YORK).isoformat() == "2026-03-08T03:00:00-04:00"
    assert shifts[2].start.astimezone(NEW_YORK).isoformat() == "2026-03-09T02:30:00-04:00"
    assert shifts[0].end == shifts[1].start and shifts[1].end == shifts[2].start
