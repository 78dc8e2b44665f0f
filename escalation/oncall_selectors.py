"""Reads about schedules for the API and the calendars: who is who, who is on call.

The schedule engine (escalation.schedules) answers in person ids; these
selectors give those ids their names, and gather what a schedule's page in
the API shows. All of them read the current tenant's schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from escalation.models import (
    LayerMember,
    Person,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Team,
)
from escalation.schedules import OnCall, on_call_at
from escalation.schedules.snapshot import schedule_snapshot


@dataclass(frozen=True)
class PersonName:
    id: int
    username: str
    display_name: str


def person_names(*, person_ids: Iterable[int]) -> dict[int, PersonName]:
    """Each person's username and display name; an id with no person is left out."""
    people = list(Person.objects.filter(id__in=set(person_ids)).only("id", "user_id",
                                                                   "display_name"))
    usernames = dict(
        get_user_model().objects.filter(id__in={p.user_id for p in people})
        .values_list("id", "username")
    )
    return {
        person.id: PersonName(id=person.id, username=usernames.get(person.user_id, ""),
                              display_name=person.display_name)
        for person in people
    }


def person_by_username(*, username: str) -> Person | None:
    """This tenant's person of that user, if the user has a profile here."""
    user_id = (get_user_model().objects.filter(username=username)
               .values_list("id", flat=True).first())
    if user_id is None:
        return None
    return Person.objects.filter(user_id=user_id).first()


def schedule_list() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("team").order_by("name", "id")


def schedule_detail_list(*, now: datetime | None = None) -> QuerySet[Schedule]:
    """Schedules with their layers (members, restrictions) and upcoming overrides.

    Those are the overrides that have not ended, which the schedule services
    bound (schedules.services.MAX_OPEN_OVERRIDES).
    """
    now = now or timezone.now()
    upcoming = (ScheduleOverride.objects.filter(end__gt=now)
                .select_related("person", "replaces").order_by("start", "id"))
    layers = ScheduleLayer.objects.prefetch_related(
        Prefetch("members", queryset=LayerMember.objects.select_related("person")),
        "restrictions",
    )
    return schedule_list().prefetch_related(
        Prefetch("layers", queryset=layers),
        Prefetch("overrides", queryset=upcoming, to_attr="upcoming_overrides"),
    )


def schedule_override_find(*, schedule: Schedule, override_id: str) -> ScheduleOverride | None:
    """The schedule's override of that id; None for any other id, or text that is no id."""
    given = str(override_id)
    if not (given.isascii() and given.isdigit() and len(given) <= 18):
        return None
    return ScheduleOverride.objects.filter(schedule=schedule, pk=int(given)).first()


def schedule_people(*, schedule: Schedule) -> set[int]:
    """Everyone a detail page of the schedule names, for one lookup of their names."""
    ids = {member.person_id for layer in schedule.layers.all() for member in layer.members.all()}
    for override in getattr(schedule, "upcoming_overrides", []):
        ids.add(override.person_id)
        if override.replaces_id is not None:
            ids.add(override.replaces_id)
    return ids


@dataclass(frozen=True)
class ScheduleOnCall:
    schedule: Schedule
    at: datetime
    on_call: OnCall
    version: int  # of the schedule the answer was computed from


def schedule_on_call_at(*, schedule: Schedule, at: datetime) -> ScheduleOnCall:
    spec = schedule_snapshot(schedule_id=schedule.id, since=at)
    return ScheduleOnCall(schedule=schedule, at=at, on_call=on_call_at(spec, at),
                          version=spec.version)


def team_on_call_at(*, team: Team, at: datetime) -> list[ScheduleOnCall]:
    """Who is on call in each of the team's schedules (by name)."""
    return [schedule_on_call_at(schedule=schedule, at=at)
            for schedule in team.schedules.order_by("name", "id")]


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name", "id")
