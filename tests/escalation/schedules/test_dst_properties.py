"""Property tests of the DST rule over every offset change from 2000 to 2040.

In America/New_York, Europe/Berlin, Australia/Lord_Howe (30-minute DST),
Asia/Kolkata (no DST: checked at two instants a year) and Pacific/Chatham
(+12:45/+13:45), for rotations of hours, days and weeks with handoffs at
random times and inside the skipped or repeated hour: each instant around a
change has exactly one person on call in a layer with people and no
restriction, the one the independent oracle (tests/escalation/schedules/
oracle.py) names; shifts_between tiles its range with no gap or overlap and
agrees with on_call_at; a shift across a change is its wall-clock length in
real time corrected by the change (a 24-hour shift lasts 23 or 25 hours),
never shortened otherwise.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation.schedules import LayerSpec, ScheduleSpec, on_call_at, shifts_between
from escalation.schedules.spec import UNIT_STEPS
from tests.escalation.schedules.oracle import (
    ZONES,
    local,
    moments,
    on_duty_index,
    reads_once,
    shift_starts,
)

SECOND, MINUTE = timedelta(seconds=1), timedelta(minutes=1)
MEMBERS = tuple(range(101, 108))


def _spec(zone: str, start: date, handoff: time, length: int, unit: str, count: int,
          position: int) -> ScheduleSpec:
    layer = LayerSpec(
        layer_id=7, name="rotation", priority=0, start_date=start, handoff_time=handoff,
        shift_length=length, shift_unit=unit, start_position=position,
        members=MEMBERS[:count],
    )
    return ScheduleSpec(schedule_id=1, version=1, time_zone=zone, layers=(layer,))


class Case:
    """A rotation around one change, with the oracle's shifts over a window."""

    def __init__(self, zone: str, moment: datetime, handoff: time, length: int, unit: str,
                 count: int, position: int, lead_days: int) -> None:
        self.zone, self.moment = zone, moment
        self.step = length * UNIT_STEPS[unit]
        self.window = (moment - self.step - timedelta(hours=6),
                       moment + self.step + timedelta(hours=6))
        start = local(self.window[0], ZoneInfo(zone)).date() - timedelta(days=1 + lead_days)
        self.spec = _spec(zone, start, handoff, length, unit, count, position)
        self.layer = self.spec.layers[0]
        self.base = datetime.combine(start, handoff)
        # Enough oracle shifts to cover the window from before its start to after its end.
        first = int((local(self.window[0], ZoneInfo(zone)) - self.base) // self.step) - 2
        last = int((local(self.window[1], ZoneInfo(zone)) - self.base) // self.step) + 2
        self.starts = shift_starts(self.base, self.step, max(first, 0), last, zone)

    def expected(self, at: datetime) -> int:
        k = on_duty_index(self.starts, at)
        return self.layer.members[(self.layer.start_position + k) % len(self.layer.members)]

    def probes(self) -> list[datetime]:
        """Every 10 minutes for 3 hours either side of the change, and each edge ±1 s."""
        found = [self.moment + j * 10 * MINUTE for j in range(-18, 19)]
        found += [self.moment - SECOND, self.moment + SECOND]
        for _, start in self.starts:
            if self.window[0] < start < self.window[1]:
                found += [start - SECOND, start, start + SECOND]
        return [at for at in found if self.window[0] <= at < self.window[1]]


def _check_instants(case: Case) -> None:
    for at in case.probes():
        answer = on_call_at(case.spec, at, layer_id=7)
        assert answer.people == (case.expected(at),), (case.zone, at, case.layer)
        assert on_call_at(case.spec, at).people == answer.people


def _check_tiling(case: Case, extra: list[timedelta]) -> None:
    start, end = case.window
    segments = shifts_between(case.spec, start, end)
    assert segments[0].start == start and segments[-1].end == end
    for before, after in pairwise(segments):
        assert before.end == after.start  # no gap, no overlap
        assert before.people != after.people  # merged when the same
    for segment in segments:
        assert segment.end > segment.start and len(segment.people) == 1
    oracle_edges = {s for _, s in case.starts}
    assert {s.start for s in segments[1:]} <= oracle_edges
    for offset in extra:
        at = start + offset
        if at < end:
            (segment,) = [s for s in segments if s.start <= at < s.end]
            assert segment.people == on_call_at(case.spec, at).people == (case.expected(at),)


def _check_lengths(case: Case) -> None:
    """A shift whose start and end wall-clock times each occur once lasts its wall-clock
    length corrected by the change; with two or more people it is one segment."""
    if len(case.layer.members) < 2:
        return
    zone = ZoneInfo(case.zone)
    segments = shifts_between(case.spec, *case.window)
    starts = dict(case.starts)
    for k, shift_start in case.starts:
        if k + 1 not in starts or not case.window[0] < shift_start < case.window[1]:
            continue
        shift_end = starts[k + 1]
        wall_start, wall_end = case.base + k * case.step, case.base + (k + 1) * case.step
        if not (reads_once(wall_start, case.zone) and reads_once(wall_end, case.zone)):
            continue
        change = shift_end.astimezone(zone).utcoffset() - shift_start.astimezone(zone).utcoffset()
        assert shift_end - shift_start == case.step - change
        if shift_end < case.window[1]:
            (segment,) = [s for s in segments if s.start == shift_start]
            assert segment.end == shift_end, (case.zone, k, segment)


def _handoffs_near(zone: str, moment: datetime) -> list[time]:
    """Handoff times inside the skipped or repeated wall-clock span, and at its edges."""
    before, after = local(moment - SECOND, ZoneInfo(zone)) + SECOND, local(moment, ZoneInfo(zone))
    low, high = min(before, after), max(before, after)
    middle = low + (high - low) / 2
    return [wall.time().replace(second=0, microsecond=0) for wall in (low, middle, high)]


CASES = [(zone, moment) for zone in ZONES for moment in moments(zone)]


@pytest.mark.parametrize("zone", ZONES)
def test_every_change_has_one_person_on_call_at_every_instant_around_it(zone):
    """Every change of the zone 2000-2040, hourly, daily and weekly rotations handing
    off inside the changed span: one person at each instant, the oracle's."""
    for moment in moments(zone):
        for handoff in _handoffs_near(zone, moment)[:2]:
            for length, unit in ((1, "hours"), (1, "days"), (1, "weeks")):
                case = Case(zone, moment, handoff, length, unit, count=3, position=1,
                            lead_days=0)
                _check_instants(case)
                _check_lengths(case)


@st.composite
def cases(draw) -> Case:
    zone, moment = draw(st.sampled_from(CASES))
    unit = draw(st.sampled_from(["hours", "days", "weeks"]))
    length = draw(st.integers(1, {"hours": 30, "days": 3, "weeks": 2}[unit]))
    near = _handoffs_near(zone, moment)
    handoff = draw(st.one_of(
        st.sampled_from(near),
        st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59])),
        st.integers(-90, 90).map(
            lambda minutes: (datetime.combine(date(2001, 1, 1), near[1])
                             + minutes * MINUTE).time()),
    ))
    count = draw(st.integers(1, 7))
    position = draw(st.integers(0, count - 1))
    lead_days = draw(st.integers(0, 40))
    return Case(zone, moment, handoff, length, unit, count, position, lead_days)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), extra=st.lists(st.timedeltas(timedelta(0), timedelta(days=30)),
                                     max_size=8))
def test_random_rotations_tile_each_change_and_keep_their_wall_clock_length(case, extra):
    _check_instants(case)
    _check_tiling(case, extra)
    _check_lengths(case)
