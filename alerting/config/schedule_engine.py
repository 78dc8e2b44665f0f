"""A file's schedule as the schedule engine's spec (pure): the file's usernames become
person ids (1, 2, … in the order they first appear), its layers ids 1, 2, … in the
file's order, and each override's `override_id` is its index in the file."""

from __future__ import annotations

from alerting.config.schema_oncall import WEEKDAY_INDEX, ScheduleSpec
from escalation import schedules as engine


def engine_spec(schedule: ScheduleSpec) -> tuple[engine.ScheduleSpec, dict[int, str]]:
    """The engine's spec, and the usernames by the ids it uses."""
    ids: dict[str, int] = {}

    def person(username: str) -> int:
        return ids.setdefault(username, len(ids) + 1)

    layers = tuple(
        engine.LayerSpec(
            layer_id=number, name=layer.name, priority=layer.priority,
            start_date=layer.start_date, handoff_time=layer.handoff_time,
            shift_length=layer.shift_length, shift_unit=layer.shift_unit,
            start_position=layer.start_position,
            members=tuple(person(username) for username in layer.members),
            restrictions=tuple(
                engine.RestrictionSpec(
                    weekday=None if r.weekday is None else WEEKDAY_INDEX[r.weekday],
                    start_time=r.start, end_time=r.end,
                )
                for r in layer.restrictions
            ),
        )
        for number, layer in enumerate(schedule.layers, start=1)
    )
    overrides = tuple(
        engine.OverrideSpec(
            kind=o.kind, person=person(o.person),
            replaces=person(o.replaces) if o.replaces else None,
            start=o.start, end=o.end, override_id=index,
        )
        for index, o in enumerate(schedule.overrides)
    )
    temporaries = tuple(
        engine.TemporarySpec(
            start=t.start, end=t.end,
            shifts=tuple(engine.TemporaryShiftSpec(person=person(s.person), start=s.start,
                                                   end=s.end) for s in t.shifts),
        )
        for t in schedule.temporaries
    )
    spec = engine.ScheduleSpec(schedule_id=0, version=0, time_zone=schedule.time_zone,
                               layers=layers, overrides=overrides, temporaries=temporaries)
    return spec, {number: username for username, number in ids.items()}
