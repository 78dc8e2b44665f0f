"""The timeline's geometry (pure): days on the schedule's wall clock, bars that tile it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from escalation.admin.timeline import schedule_timeline
from escalation.schedules import LayerSpec, OverrideSpec, ScheduleSpec


def weekly(*members: int, layer_id: int = 1, name: str = "Weekly") -> LayerSpec:
    return LayerSpec(layer_id=layer_id, name=name, priority=0, start_date=date(2026, 1, 5),
                     handoff_time=time(9), shift_length=1, shift_unit="weeks", start_position=0,
                     members=members)


def test_a_day_across_a_dst_change_is_as_wide_as_it_is_long():
    spec = ScheduleSpec(schedule_id=1, version=1, time_zone="Europe/Berlin",
                        layers=(weekly(1, 2),))

    timeline = schedule_timeline(spec, now=datetime(2026, 10, 20, 12, tzinfo=UTC),
                                 names={1: "Alice", 2: "Bob"})

    hours = [round(day.width * (timeline.end - timeline.start).total_seconds() / 360000)
             for day in timeline.days]
    assert len(hours) == 14 and hours.count(25) == 1 and hours.count(24) == 13
    assert timeline.start == datetime(2026, 10, 19, 22, tzinfo=UTC)  # midnight in Berlin


def test_the_bars_tile_the_two_weeks_and_name_the_people():
    carol = OverrideSpec(kind="replace", person=3, replaces=None,
                         start=datetime(2026, 12, 5, tzinfo=UTC),
                         end=datetime(2026, 12, 7, tzinfo=UTC))
    spec = ScheduleSpec(schedule_id=1, version=1, time_zone="UTC",
                        layers=(weekly(1, 2),), overrides=(carol,))

    timeline = schedule_timeline(spec, now=datetime(2026, 12, 1, 12, tzinfo=UTC),
                                 names={1: "Alice", 2: "Bob", 3: "Carol"})

    layer, final = timeline.rows
    assert [row.name for row in timeline.rows] == ["Weekly", "Final result"]
    assert "Carol" not in {bar.names for bar in layer.bars}
    assert [(bar.names, bar.source) for bar in final.bars] == [
        ("Bob", "layer"), ("Carol", "override"), ("Bob", "layer"), ("Alice", "layer"),
        ("Bob", "layer")]
    for row in timeline.rows:
        assert row.bars[0].left == 0
        assert abs(sum(bar.width for bar in row.bars) - 100) < 0.01
        assert all(a.end == b.start for a, b in zip(row.bars, row.bars[1:], strict=False))
    assert timeline.end - timeline.start == timedelta(days=14)
    assert timeline.gaps == ()


def test_nobody_in_the_final_result_is_a_gap():
    spec = ScheduleSpec(schedule_id=1, version=1, time_zone="UTC", layers=())

    timeline = schedule_timeline(spec, now=datetime(2026, 12, 1, 12, tzinfo=UTC), names={})

    (gap,) = timeline.gaps
    assert gap.gap and gap.names == "" and gap.width == 100
