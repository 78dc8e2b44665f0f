"""Property tests of whole schedules: segments agree with the instant answer, windows with the rule.

Random schedules (layers with restrictions and priorities, overrides of every
kind, temporary schedules) in the five zones, around DST changes and not:
shifts_between tiles its range and each segment is what on_call_at says at
any instant inside it; coverage_gaps and layer_shares add up to the segments.
Restriction windows open and close where the independent oracle's reading of
the DST rule puts their wall-clock edges.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation.schedules import (
    LayerSpec,
    OverrideSpec,
    RestrictionSpec,
    ScheduleSpec,
    TemporaryShiftSpec,
    TemporarySpec,
    coverage_gaps,
    layer_shares,
    on_call_at,
    shifts_between,
)
from tests.escalation.schedules.oracle import ZONES, instant_of, local, moments

MICRO, HOUR, DAY = timedelta(microseconds=1), timedelta(hours=1), timedelta(days=1)
PEOPLE = (1, 2, 3, 4, 5, 6)
ANCHORS = [(zone, moment) for zone in ZONES for moment in moments(zone)[::4]]
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def restrictions(draw) -> RestrictionSpec:
    start = draw(wall_times)
    end = draw(wall_times.filter(lambda end: end != start))
    return RestrictionSpec(draw(st.one_of(st.none(), st.integers(0, 6))), start, end)


@st.composite
def scenarios(draw):
    zone, moment = draw(st.sampled_from(ANCHORS))
    window = (moment - 2 * DAY, moment + 2 * DAY)
    first_day = local(window[0], ZoneInfo(zone)).date()
    layers = []
    for layer_id in range(1, draw(st.integers(1, 3)) + 1):
        unit = draw(st.sampled_from(["hours", "days", "weeks"]))
        members = tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4)))
        layers.append(LayerSpec(
            layer_id=layer_id, name=f"layer {layer_id}", priority=draw(st.integers(0, 2)),
            start_date=first_day + timedelta(days=draw(st.integers(-10, 3))),
            handoff_time=draw(wall_times), shift_length=draw(st.integers(1, 12)),
            shift_unit=unit, start_position=draw(st.integers(0, len(members) - 1)),
            members=members, restrictions=tuple(draw(st.lists(restrictions(), max_size=2))),
        ))
    overrides = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["replace", "add", "remove"]))
        start = window[0] + draw(st.integers(0, 95)) * HOUR
        overrides.append(OverrideSpec(
            kind, draw(st.sampled_from(PEOPLE)),
            draw(st.one_of(st.none(), st.sampled_from(PEOPLE))) if kind == "replace" else None,
            start, start + draw(st.integers(1, 48)) * HOUR,
        ))
    temporaries = []
    if draw(st.booleans()):
        start = window[0] + draw(st.integers(0, 80)) * HOUR
        end = start + draw(st.integers(1, 30)) * HOUR
        shifts = tuple(
            TemporaryShiftSpec(draw(st.sampled_from(PEOPLE)), start + offset * HOUR,
                               start + (offset + draw(st.integers(1, 20))) * HOUR)
            for offset in draw(st.lists(st.integers(0, 20), max_size=2))
        )
        temporaries.append(TemporarySpec(start, end, shifts))
    spec = ScheduleSpec(schedule_id=1, version=1, time_zone=zone, layers=tuple(layers),
                        overrides=tuple(overrides), temporaries=tuple(temporaries))
    return spec, window


def _check_segments(spec, window, layer_id=None, extra=()):
    segments = shifts_between(spec, *window, layer_id=layer_id)
    assert segments[0].start == window[0] and segments[-1].end == window[1]
    for before, after in pairwise(segments):
        assert before.end == after.start
        assert (before.people, before.source, before.layer_id) != (
            after.people, after.source, after.layer_id)
    for segment in segments:
        assert segment.end > segment.start
        middle = segment.start + (segment.end - segment.start) / 2
        for at in (segment.start, middle, segment.end - MICRO):
            answer = on_call_at(spec, at, layer_id=layer_id)
            assert (answer.people, answer.source, answer.layer_id) == (
                segment.people, segment.source, segment.layer_id), (at, segment)
    for at in extra:
        (segment,) = [s for s in segments if s.start <= at < s.end]
        assert on_call_at(spec, at, layer_id=layer_id).people == segment.people
    return segments


@PROPERTY_SETTINGS
@given(scenario=scenarios(), offsets=st.lists(st.integers(0, 4 * 86400 - 1), max_size=10))
def test_segments_are_what_on_call_at_says_inside_them(scenario, offsets):
    spec, window = scenario
    extra = [window[0] + timedelta(seconds=offset) for offset in offsets]
    segments = _check_segments(spec, window, extra=extra)
    gaps = [(s.start, s.end) for s in segments if not s.people]
    merged = []
    for gap in gaps:
        if merged and merged[-1][1] == gap[0]:
            merged[-1] = (merged[-1][0], gap[1])
        else:
            merged.append(gap)
    assert coverage_gaps(spec, *window) == merged
    for layer in spec.layers:
        alone = _check_segments(spec, window, layer_id=layer.layer_id, extra=extra)
        shares = layer_shares(spec, layer.layer_id, *window)
        assert set(shares) == set(layer.members)
        assert sum(shares.values(), timedelta(0)) == sum(
            (s.duration for s in alone if s.people), timedelta(0))
        assert all(len(s.people) <= 1 for s in alone)


def _inside_oracle_window(restriction: RestrictionSpec, zone: str, at: datetime) -> bool:
    today = local(at, ZoneInfo(zone)).date()
    for day in (today - 2 * DAY, today - DAY, today, today + DAY):
        if restriction.weekday is not None and restriction.weekday != day.weekday():
            continue
        end_day = day + DAY if restriction.end_time <= restriction.start_time else day
        opens = instant_of(datetime.combine(day, restriction.start_time), zone)
        closes = instant_of(datetime.combine(end_day, restriction.end_time), zone)
        if opens <= at < closes:
            return True
    return False


@st.composite
def restricted_layers(draw):
    zone, moment = draw(st.sampled_from([(z, m) for z in ZONES for m in moments(z)]))
    tz = ZoneInfo(zone)
    edge = local(moment, tz)  # a wall-clock time at the change, and near it
    near = st.integers(-90, 90).map(lambda minutes: (edge + minutes * timedelta(minutes=1))
                                    .time().replace(second=0, microsecond=0))
    start = draw(st.one_of(near, wall_times))
    end = draw(st.one_of(near, wall_times).filter(lambda end: end != start))
    restriction = RestrictionSpec(draw(st.one_of(st.none(), st.integers(0, 6))), start, end)
    layer = LayerSpec(
        layer_id=1, name="restricted", priority=0, start_date=edge.date() - 20 * DAY,
        handoff_time=time(9), shift_length=1, shift_unit="days", start_position=0,
        members=(1,), restrictions=(restriction,),
    )
    spec = ScheduleSpec(schedule_id=1, version=1, time_zone=zone, layers=(layer,))
    return spec, restriction, moment


@PROPERTY_SETTINGS
@given(case=restricted_layers())
def test_restriction_windows_open_and_close_where_the_rule_puts_their_edges(case):
    spec, restriction, moment = case
    probes = [moment + j * timedelta(minutes=15) for j in range(-12 * 4, 12 * 4 + 1)]
    probes += [moment - MICRO, moment]
    for at in probes:
        expected = _inside_oracle_window(restriction, spec.time_zone, at)
        assert bool(on_call_at(spec, at).people) == expected, (at, restriction)
