"""Who is on call now in each schedule, for the admin's overview (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from escalation.models import Person, Schedule
from escalation.schedules import shifts_between
from escalation.schedules.snapshot import schedule_on_call_now, schedule_snapshot
from escalation.schedules.zones import UnknownZone

# The overview shows this many schedules (by name); the rest are a click away.
SCHEDULES_SHOWN = 50
# How far ahead "until when" looks; a shift running longer reads "for 2+ weeks".
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class OnCallNow:
    schedule: Schedule
    names: tuple[str, ...]  # empty: nobody (a gap)
    source: str
    until: datetime | None  # None: beyond the horizon
    problem: str = ""  # why nobody could be worked out (the schedule cannot be read)

    @property
    def gap(self) -> bool:
        return not self.names


def schedules_on_call_now(*, now: datetime | None = None) -> list[OnCallNow]:
    now = now or timezone.now()
    rows = []
    for schedule in Schedule.objects.order_by("name", "id")[:SCHEDULES_SHOWN]:
        try:
            on_call = schedule_on_call_now(schedule_id=schedule.pk, at=now)
            spec = schedule_snapshot(schedule_id=schedule.pk, since=now)
            shifts = shifts_between(spec, now, now + HORIZON)
        except UnknownZone:
            # Written around the checks (the database by hand): say so, show the others.
            rows.append(OnCallNow(schedule=schedule, names=(), source="nobody", until=None,
                                  problem=f"unknown time zone {schedule.time_zone!r}"))
            continue
        until = shifts[0].end if shifts and shifts[0].end < now + HORIZON else None
        names = dict(Person.objects.filter(pk__in=on_call.people)
                     .values_list("pk", "display_name"))
        rows.append(OnCallNow(
            schedule=schedule,
            names=tuple(names.get(person, f"person {person}") for person in on_call.people),
            source=on_call.source, until=until,
        ))
    return rows
