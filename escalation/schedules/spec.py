"""What a schedule is to the engine: frozen, plain values (no Django, no I/O).

escalation/schedules/snapshot.py builds a `ScheduleSpec` from the database;
config, tests and benchmarks build them by hand. All datetimes are aware;
wall-clock fields (`start_date`, `handoff_time`, restriction times) are read
in the schedule's `time_zone` by the rule of escalation/schedules/wallclock.py.

Precomputed lookups (the zone, layers by priority, an index of overrides)
are cached on the frozen instance itself (`functools.cached_property` writes
to the instance's `__dict__`, which `frozen` allows), so a spec kept for a
schedule version answers many questions for the price of one preparation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from escalation.schedules.zones import zone_named

if TYPE_CHECKING:
    from escalation.schedules.oncall import PreparedSchedule

ShiftUnit = Literal["hours", "days", "weeks"]
OverrideKind = Literal["replace", "add", "remove"]
Source = Literal["temporary", "override", "layer", "nobody"]

UNIT_STEPS: dict[str, timedelta] = {
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}


@dataclass(frozen=True)
class RestrictionSpec:
    """A window from `start_time` on `weekday` (0 = Monday; None: every day) to
    `end_time`, on the next day when `end_time` is not after `start_time`."""

    weekday: int | None
    start_time: time
    end_time: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


@dataclass(frozen=True)
class LayerSpec:
    """A rotation: `members` (person ids, in order) take shifts in turn.

    Shift k starts at the wall-clock time start_date + handoff_time +
    k * shift_length shift_unit with members[(start_position + k) % len].
    Before shift 0 the layer has nobody.
    """

    layer_id: int
    name: str
    priority: int
    start_date: date
    handoff_time: time
    shift_length: int
    shift_unit: ShiftUnit
    start_position: int
    members: tuple[int, ...]
    restrictions: tuple[RestrictionSpec, ...] = ()

    @property
    def step(self) -> timedelta:
        return self.shift_length * UNIT_STEPS[self.shift_unit]


@dataclass(frozen=True)
class OverrideSpec:
    """replace: `person` instead of `replaces` (of everyone when None); add:
    `person` as well; remove: `person` is not on call. Active in [start, end)."""

    kind: OverrideKind
    person: int
    replaces: int | None
    start: datetime
    end: datetime
    override_id: int | None = None


@dataclass(frozen=True)
class TemporaryShiftSpec:
    person: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class TemporarySpec:
    """Replaces the whole schedule in [start, end): on call are its shifts' people."""

    start: datetime
    end: datetime
    shifts: tuple[TemporaryShiftSpec, ...] = ()


@dataclass(frozen=True)
class ScheduleSpec:
    schedule_id: int
    version: int
    time_zone: str
    layers: tuple[LayerSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    temporaries: tuple[TemporarySpec, ...] = ()

    @cached_property
    def zone(self) -> ZoneInfo:
        """The schedule's zone; raises zones.UnknownZone (a ValueError) for an unknown name."""
        return zone_named(self.time_zone)

    @cached_property
    def prepared(self) -> PreparedSchedule:
        from escalation.schedules.oncall import PreparedSchedule

        return PreparedSchedule(self)

    def layer(self, layer_id: int) -> LayerSpec:
        for layer in self.layers:
            if layer.layer_id == layer_id:
                return layer
        raise KeyError(f"schedule {self.schedule_id} has no layer {layer_id}")


@dataclass(frozen=True)
class OnCall:
    """Who is on call at an instant and why.

    source: "temporary" (a temporary schedule covers the instant), "override"
    (an override changed what the layers say), "layer" (the layers' result as
    is), "nobody" (people is empty, whatever the reason: a gap).
    layer_id: the layer whose person the result started from (None for a
    temporary schedule or when no layer had anyone).
    """

    people: tuple[int, ...]
    source: Source
    layer_id: int | None = None


@dataclass(frozen=True)
class Shift:
    """A segment [start, end) over which who is on call does not change."""

    start: datetime
    end: datetime
    people: tuple[int, ...]
    source: Source
    layer_id: int | None = None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def is_gap(self) -> bool:
        return not self.people


__all__ = [
    "LayerSpec",
    "OnCall",
    "OverrideSpec",
    "RestrictionSpec",
    "ScheduleSpec",
    "Shift",
    "TemporaryShiftSpec",
    "TemporarySpec",
]
