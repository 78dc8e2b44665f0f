"""Overrides and temporary schedules by example, and the precedence between them and layers."""

from datetime import timedelta

from escalation.schedules import (
    OnCall,
    OverrideSpec,
    TemporaryShiftSpec,
    TemporarySpec,
    coverage_gaps,
    layer_shares,
    on_call_at,
    shifts_between,
)
from tests.escalation.schedules.builders import ALICE, BOB, CAROL, DAVE, ERIN, layer, schedule, utc

WEEK = (ALICE, BOB, CAROL)
SATURDAY = (utc(2026, 1, 10), utc(2026, 1, 11))  # inside alice's first week


def override(kind, person, replaces=None, span=SATURDAY):
    return OverrideSpec(kind, person, replaces, *span)


def test_a_weekend_replace_puts_someone_else_on_call_and_gives_the_shift_back_after():
    spec = schedule(layer(members=WEEK), overrides=[override("replace", DAVE)])
    assert on_call_at(spec, utc(2026, 1, 10, 12)) == OnCall((DAVE,), "override", 1)
    assert on_call_at(spec, utc(2026, 1, 11)).people == (ALICE,)
    assert on_call_at(spec, utc(2026, 1, 9, 23, 59)).people == (ALICE,)


def test_replacing_one_person_only_takes_their_place_while_they_are_on_call():
    spec = schedule(
        layer(members=WEEK),
        overrides=[override("replace", DAVE, replaces=BOB,
                            span=(utc(2026, 1, 10), utc(2026, 1, 14)))],
    )
    assert on_call_at(spec, utc(2026, 1, 11)).people == (ALICE,)  # alice's week: no effect
    assert on_call_at(spec, utc(2026, 1, 13)) == OnCall((DAVE,), "override", 1)  # bob's


def test_add_puts_a_second_person_on_call_and_remove_can_leave_nobody():
    spec = schedule(layer(members=WEEK), overrides=[override("add", ERIN)])
    assert on_call_at(spec, utc(2026, 1, 10, 12)).people == (ALICE, ERIN)
    off = schedule(layer(members=WEEK), overrides=[override("remove", ALICE)])
    assert on_call_at(off, utc(2026, 1, 10, 12)) == OnCall((), "nobody", 1)
    assert coverage_gaps(off, utc(2026, 1, 5, 9), utc(2026, 1, 12, 9)) == [SATURDAY]


def test_a_replace_covers_a_gap_the_layers_leave():
    spec = schedule(layer(members=WEEK), overrides=[override(
        "replace", DAVE, span=(utc(2026, 1, 5), utc(2026, 1, 5, 12)))])
    assert on_call_at(spec, utc(2026, 1, 5, 8)) == OnCall((DAVE,), "override", None)
    assert coverage_gaps(spec, utc(2026, 1, 5), utc(2026, 1, 6)) == []


def test_a_temporary_schedule_wins_over_layers_and_overrides_even_with_nobody():
    temporary = TemporarySpec(
        utc(2026, 1, 10), utc(2026, 1, 12),
        (TemporaryShiftSpec(CAROL, utc(2026, 1, 10), utc(2026, 1, 11)),),
    )
    spec = schedule(layer(members=WEEK), overrides=[override("replace", DAVE)],
                    temporaries=[temporary])
    assert on_call_at(spec, utc(2026, 1, 10, 12)) == OnCall((CAROL,), "temporary", None)
    assert on_call_at(spec, utc(2026, 1, 11, 12)) == OnCall((), "nobody", None)
    assert on_call_at(spec, utc(2026, 1, 12)).people == (ALICE,)  # after it: the layers
    # A layer alone ignores temporaries and overrides.
    assert on_call_at(spec, utc(2026, 1, 10, 12), layer_id=1).people == (ALICE,)


def test_the_highest_layer_with_someone_wins_and_shifts_say_which():
    primary = layer(1, members=(ALICE,), priority=5, start=utc(2026, 1, 7).date())
    secondary = layer(2, members=(BOB,), priority=1)
    spec = schedule(secondary, primary)
    shifts = shifts_between(spec, utc(2026, 1, 6), utc(2026, 1, 8))
    assert [(s.start, s.people, s.layer_id) for s in shifts] == [
        (utc(2026, 1, 6), (BOB,), 2), (utc(2026, 1, 7, 9), (ALICE,), 1)
    ]


def test_layer_shares_count_each_members_time_and_show_who_had_none():
    spec = schedule(layer(members=(ALICE, BOB, CAROL), unit="days"))
    shares = layer_shares(spec, 1, utc(2026, 1, 5, 9), utc(2026, 1, 7, 9))
    assert shares == {ALICE: timedelta(days=1), BOB: timedelta(days=1), CAROL: timedelta(0)}
