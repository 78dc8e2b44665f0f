"""Who is on call at an instant: the precedence of temporary schedules, overrides and layers.

1. A temporary schedule whose [start, end) covers the instant wins entirely:
   on call are the people of its shifts covering the instant, possibly nobody.
   (When temporaries overlap, the one that starts first wins; validation
   reports the overlap.)
2. Otherwise the layers' result: the person on duty in the layer of highest
   priority that has someone at the instant (its rotation has started and a
   restriction window, if it has any, is open). Ties of priority: the
   lower layer id (the older layer) first.
3. Over that, the overrides active at the instant, in this order:
   - replace without `replaces`: its person instead of everyone on call
     (also when the layers have nobody: the override covers the gap);
   - replace of X: its person instead of X, only while X is on call;
   - add: its person as well;
   - remove: its person is not on call; that may leave nobody, a gap, which
     paging sends to the level's fallback.
   Within a kind, overrides apply in order of start, then end, then person.

`source` says which step decided; an empty result is always "nobody".
"""

from __future__ import annotations

from datetime import datetime

from escalation.schedules.intervals import IntervalIndex
from escalation.schedules.restrictions import Windows
from escalation.schedules.rotation import Rotation
from escalation.schedules.spec import (
    LayerSpec,
    OnCall,
    OverrideSpec,
    ScheduleSpec,
    TemporarySpec,
)

_KIND_ORDER = {"replace": 0, "add": 1, "remove": 2}


def _override_order(override: OverrideSpec) -> tuple:
    # replace-all before replace-of-X, then add, then remove.
    return (
        _KIND_ORDER[override.kind],
        override.kind == "replace" and override.replaces is not None,
        override.start,
        override.end,
        override.person,
    )


class PreparedLayer:
    __slots__ = ("layer", "rotation", "windows")

    def __init__(self, layer: LayerSpec, spec: ScheduleSpec) -> None:
        self.layer = layer
        self.rotation = Rotation(layer, spec.zone)
        self.windows = Windows(layer.restrictions, spec.zone)

    def on_call(self, at: datetime) -> int | None:
        person = self.rotation.on_duty(at)
        if person is None or not self.windows.allows(at):
            return None
        return person

    def edges(self, start: datetime, end: datetime) -> list[datetime]:
        return self.rotation.handoffs(start, end) + self.windows.edges(start, end)


class PreparedSchedule:
    """A spec's lookups, built once (cached on the spec as `spec.prepared`)."""

    def __init__(self, spec: ScheduleSpec) -> None:
        self.spec = spec
        by_priority = sorted(spec.layers, key=lambda layer: (-layer.priority, layer.layer_id))
        self.layers = [PreparedLayer(layer, spec) for layer in by_priority]
        self.layers_by_id = {prepared.layer.layer_id: prepared for prepared in self.layers}
        self.overrides: IntervalIndex[OverrideSpec] = IntervalIndex(
            spec.overrides, lambda o: (o.start, o.end), _override_order
        )
        self.temporaries: IntervalIndex[TemporarySpec] = IntervalIndex(
            spec.temporaries, lambda t: (t.start, t.end), lambda t: (t.start, t.end)
        )

    def layer(self, layer_id: int) -> PreparedLayer:
        try:
            return self.layers_by_id[layer_id]
        except KeyError:
            raise KeyError(f"schedule {self.spec.schedule_id} has no layer {layer_id}") from None

    def edges(self, start: datetime, end: datetime, layer_id: int | None) -> list[datetime]:
        """Every instant in (start, end) at which who is on call may change, sorted."""
        if layer_id is not None:
            found = self.layer(layer_id).edges(start, end)
        else:
            found = [edge for layer in self.layers for edge in layer.edges(start, end)]
            found += self.overrides.edges(start, end)
            found += self.temporaries.edges(start, end)
            for temporary in self.spec.temporaries:
                if temporary.start < end and start < temporary.end:
                    found.extend(
                        edge for shift in temporary.shifts for edge in (shift.start, shift.end)
                        if start < edge < end
                    )
        return sorted(set(found))

    def at(self, at: datetime, layer_id: int | None) -> OnCall:
        if layer_id is not None:
            person = self.layer(layer_id).on_call(at)
            if person is None:
                return OnCall((), "nobody", None)
            return OnCall((person,), "layer", layer_id)
        temporaries = self.temporaries.at(at)
        if temporaries:
            people = _unique(
                shift.person for shift in temporaries[0].shifts if shift.start <= at < shift.end
            )
            return OnCall(people, "temporary" if people else "nobody", None)
        base: tuple[int, ...] = ()
        base_layer = None
        for layer in self.layers:
            person = layer.on_call(at)
            if person is not None:
                base, base_layer = (person,), layer.layer.layer_id
                break
        people = _apply_overrides(base, self.overrides.at(at))
        if not people:
            return OnCall((), "nobody", base_layer)
        return OnCall(people, "layer" if people == base else "override", base_layer)


def _apply_overrides(base: tuple[int, ...], overrides: tuple[OverrideSpec, ...]) -> tuple[int, ...]:
    people = list(base)
    for override in overrides:
        if override.kind == "replace":
            if override.replaces is None:
                people = [override.person]
            elif override.replaces in people:
                people = [override.person if p == override.replaces else p for p in people]
        elif override.kind == "add":
            people.append(override.person)
        elif override.kind == "remove":
            people = [p for p in people if p != override.person]
    return _unique(people)


def _unique(people) -> tuple[int, ...]:
    return tuple(dict.fromkeys(people))


def on_call_at(spec: ScheduleSpec, at: datetime, *, layer_id: int | None = None) -> OnCall:
    """Who is on call in `spec` at the aware instant `at` (this module's precedence).

    With `layer_id`: that layer alone, its rotation and restrictions (no
    overrides, no temporary schedules); KeyError when the spec has no such
    layer. Raises zones.UnknownZone (a ValueError) when the spec's zone is
    not a known one.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("on_call_at needs an aware datetime")
    return spec.prepared.at(at, layer_id)
