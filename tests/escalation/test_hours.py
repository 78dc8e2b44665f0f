"""Business hours in the tenant's time zone decide when a step may run."""

from datetime import UTC, datetime, time

from escalation.hours import HoursWindow, in_business_hours, next_allowed

WEEKDAYS_9_TO_17 = [HoursWindow(day, time(9), time(17)) for day in range(5)]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_the_same_instant_is_business_hours_in_one_zone_and_not_another():
    monday_8_utc = utc(2026, 11, 23, 8)  # 09:00 in Berlin, 03:00 in New York
    assert in_business_hours(monday_8_utc, WEEKDAYS_9_TO_17, "Europe/Berlin")
    assert not in_business_hours(monday_8_utc, WEEKDAYS_9_TO_17, "America/New_York")


def test_inside_only_waits_for_the_next_opening():
    friday_evening = utc(2026, 11, 27, 20)  # 21:00 Berlin, Friday
    assert next_allowed(friday_evening, WEEKDAYS_9_TO_17, "Europe/Berlin", inside=True) == utc(
        2026, 11, 30, 8
    )  # Monday 09:00 Berlin


def test_outside_only_waits_for_closing_time():
    monday_noon = utc(2026, 11, 23, 11)  # 12:00 Berlin
    assert next_allowed(monday_noon, WEEKDAYS_9_TO_17, "Europe/Berlin", inside=False) == utc(
        2026, 11, 23, 16
    )
    night = utc(2026, 11, 23, 22)
    assert next_allowed(night, WEEKDAYS_9_TO_17, "Europe/Berlin", inside=False) == night


def test_inside_only_with_no_business_hours_never_comes():
    assert next_allowed(utc(2026, 11, 23, 8), [], "UTC", inside=True) is None
