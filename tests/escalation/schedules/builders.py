"""Small builders of specs for the engine's tests (plain values, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from escalation.schedules import LayerSpec, RestrictionSpec, ScheduleSpec

ALICE, BOB, CAROL, DAVE, ERIN = 1, 2, 3, 4, 5


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def layer(
    layer_id: int = 1,
    *,
    members: tuple[int, ...] = (ALICE, BOB, CAROL),
    start: date = date(2026, 1, 5),
    handoff: time = time(9),
    length: int = 1,
    unit: str = "weeks",
    priority: int = 0,
    position: int = 0,
    restrictions: tuple[RestrictionSpec, ...] = (),
) -> LayerSpec:
    return LayerSpec(
        layer_id=layer_id, name=f"layer {layer_id}", priority=priority, start_date=start,
        handoff_time=handoff, shift_length=length, shift_unit=unit, start_position=position,
        members=members, restrictions=restrictions,
    )


def schedule(*layers: LayerSpec, zone: str = "UTC", overrides=(), temporaries=()) -> ScheduleSpec:
    return ScheduleSpec(
        schedule_id=1, version=1, time_zone=zone, layers=tuple(layers),
        overrides=tuple(overrides), temporaries=tuple(temporaries),
    )
