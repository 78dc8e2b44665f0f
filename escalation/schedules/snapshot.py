"""Selectors: a schedule's rows as a `ScheduleSpec` (current tenant schema), and who is on call now.

One query per kind of row (the schedule; its layers with their members and
restrictions; overrides; temporaries with their shifts), and one more for the
version: eight in all, however big the schedule. The spec carries the
schedule's `version`, so callers may keep it while the version is unchanged.

Under READ COMMITTED each query sees what was committed when it ran, so an
edit committed between them could give rows of version v+1 labelled v. Every
edit bumps the version in its own transaction, so reading the version again
at the end shows it: then the snapshot is taken again (a page must record
the version that really chose its person).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from escalation.models.schedules import (
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    TemporarySchedule,
)
from escalation.schedules.oncall import on_call_at
from escalation.schedules.spec import (
    LayerSpec,
    OnCall,
    OverrideSpec,
    RestrictionSpec,
    ScheduleSpec,
    TemporaryShiftSpec,
    TemporarySpec,
)


def _layer_spec(layer: ScheduleLayer) -> LayerSpec:
    return LayerSpec(
        layer_id=layer.pk,
        name=layer.name,
        priority=layer.priority,
        start_date=layer.start_date,
        handoff_time=layer.handoff_time,
        shift_length=layer.shift_length,
        shift_unit=layer.shift_unit,
        start_position=layer.start_position,
        members=tuple(member.person_id for member in layer.members.all()),
        restrictions=tuple(
            RestrictionSpec(r.weekday, r.start_time, r.end_time)
            for r in layer.restrictions.all()
        ),
    )


_ATTEMPTS = 3


def schedule_snapshot(*, schedule_id: int, since: datetime | None = None) -> ScheduleSpec:
    """The schedule as the engine sees it, all of one version. Raises Schedule.DoesNotExist.

    `since`: leave out overrides and temporary schedules that ended by then
    (what "now" and the future need); None keeps them all (history).
    """
    for _ in range(_ATTEMPTS - 1):
        spec = _snapshot(schedule_id=schedule_id, since=since)
        version = Schedule.objects.filter(pk=schedule_id).values_list("version", flat=True)
        if version.first() == spec.version:
            return spec
    # Edited again and again while being read: the last reading, as good as any.
    return _snapshot(schedule_id=schedule_id, since=since)


def _snapshot(*, schedule_id: int, since: datetime | None) -> ScheduleSpec:
    overrides = ScheduleOverride.objects.order_by("start", "id")
    temporaries = TemporarySchedule.objects.order_by("start", "id")
    if since is not None:
        overrides = overrides.filter(end__gt=since)
        temporaries = temporaries.filter(end__gt=since)
    schedule = Schedule.objects.prefetch_related(
        Prefetch(
            "layers",
            queryset=ScheduleLayer.objects.order_by("-priority", "id").prefetch_related(
                Prefetch("members", queryset=LayerMember.objects.order_by("position", "id")),
                "restrictions",
            ),
        ),
        Prefetch("overrides", queryset=overrides),
        Prefetch("temporaries", queryset=temporaries.prefetch_related("shifts")),
    ).get(pk=schedule_id)
    return ScheduleSpec(
        schedule_id=schedule.pk,
        version=schedule.version,
        time_zone=schedule.time_zone,
        layers=tuple(_layer_spec(layer) for layer in schedule.layers.all()),
        overrides=tuple(
            OverrideSpec(o.kind, o.person_id, o.replaces_id, o.start, o.end, o.pk)
            for o in schedule.overrides.all()
        ),
        temporaries=tuple(
            TemporarySpec(
                t.start, t.end,
                tuple(TemporaryShiftSpec(s.person_id, s.start, s.end) for s in t.shifts.all()),
            )
            for t in schedule.temporaries.all()
        ),
    )


def schedule_on_call_now(
    *, schedule_id: int, at: datetime | None = None, layer_id: int | None = None
) -> OnCall:
    """Who is on call in the schedule at `at` (now when None), read from the database."""
    at = at or timezone.now()
    spec = schedule_snapshot(schedule_id=schedule_id, since=at)
    return on_call_at(spec, at, layer_id=layer_id)
