"""The pure checks a schedule spec goes through, each naming its field (config validation
and schedule_full_clean share them)."""

from datetime import time

import pytest

from escalation.schedules import OverrideSpec, RestrictionSpec, UnknownZone, on_call_at, zone_named
from escalation.schedules.validation import overlapping_overrides, spec_problems
from tests.escalation.schedules.builders import ALICE, BOB, CAROL, layer, schedule, utc


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "America",
                                  "Europe/Berlin ", "x" * 300, "UTC\x00"])
def test_a_zone_that_is_not_an_iana_name_is_unknown_not_a_crash(name):
    with pytest.raises(UnknownZone):
        zone_named(name)
    assert list(spec_problems(schedule(zone=name))) == ["time_zone"]
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        on_call_at(schedule(layer(), zone=name), utc(2026, 1, 6))


def test_a_rotation_with_nobody_a_zero_shift_and_a_start_beyond_its_people_are_named():
    problems = spec_problems(schedule(
        layer(1, members=()), layer(2, length=0), layer(3, members=(ALICE,), position=1),
        layer(4, restrictions=(RestrictionSpec(None, time(9), time(9)),)),
    ))
    assert set(problems) == {"members", "shift_length", "start_position", "end_time"}
    assert "'layer 1'" in problems["members"][0] and "nobody" in problems["members"][0]
    assert "'layer 2'" in problems["shift_length"][0]
    assert "'layer 3'" in problems["start_position"][0]


def test_overrides_overlap_for_the_same_person_or_the_same_replaced_person_only():
    a = OverrideSpec("add", ALICE, None, utc(2026, 1, 1), utc(2026, 1, 3))
    b = OverrideSpec("remove", ALICE, None, utc(2026, 1, 2), utc(2026, 1, 4))
    touching = OverrideSpec("add", ALICE, None, utc(2026, 1, 4), utc(2026, 1, 5))
    other = OverrideSpec("add", BOB, None, utc(2026, 1, 1), utc(2026, 1, 5))
    assert overlapping_overrides([a, b, touching, other]) == [(a, b)]
    everyone_1 = OverrideSpec("replace", BOB, None, utc(2026, 2, 1), utc(2026, 2, 3))
    everyone_2 = OverrideSpec("replace", CAROL, None, utc(2026, 2, 2), utc(2026, 2, 4))
    of_alice = OverrideSpec("replace", CAROL, ALICE, utc(2026, 3, 1), utc(2026, 3, 3))
    of_bob = OverrideSpec("replace", ALICE, BOB, utc(2026, 3, 1), utc(2026, 3, 3))
    assert overlapping_overrides([everyone_1, everyone_2, of_alice, of_bob]) == [
        (everyone_1, everyone_2)]
    problems = spec_problems(schedule(layer(), overrides=[a, b]), names={ALICE: "alice"})
    assert list(problems) == ["overrides"] and problems["overrides"][0].count("alice") == 2
