"""Whom a level pages now: its targets resolved to people, with how each was chosen.

Resolved when the step runs, from the level's snapshot (taken when the
chain started): "on call in Primary" asks the schedule engine about this
instant, a team is its members now, round robin takes the team's next
member in turn (Team.round_robin_last, advanced under the team's row lock,
so concurrent incidents page different people). A person is paged only
while a member of the tenant, through verified contact methods.

When the targets that are not fallbacks find nobody, the fallback targets
are asked; every target (or person) that found nobody is a `Gap`, which the
caller records: a page never silently goes nowhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from escalation.models import ContactMethod, NotificationRule, Person, Team, TeamMember
from escalation.paging.context import PagingContext
from tenants.models import TenantMembership

# A tenant's team may be large; one level pages at most this many people (the
# first ones, in the order of its targets), and says so when it leaves some out.
MAX_PEOPLE_PER_LEVEL = 100


@dataclass(frozen=True)
class Gap:
    """A target, or a person it chose, that yields nobody to page."""

    reason: str  # a fixed word, the metric's label: "nobody_on_call", "empty_team", ...
    detail: str  # the sentence for the history
    fallback: bool = False


@dataclass(frozen=True)
class PersonToPage:
    person_id: int
    display_name: str
    target: str  # "on call in Primary"
    schedule_id: int | None
    schedule_version: int | None
    fallback: bool
    # The person's notification rules as paged: verified methods only, by delay.
    rules: tuple[dict[str, Any], ...]


@dataclass
class LevelPeople:
    people: list[PersonToPage] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # Receivers named as fallback targets, when the fallback was used.
    receiver_ids: list[int] = field(default_factory=list)
    fallback_used: bool = False


@dataclass(frozen=True)
class _Candidate:
    person_id: int
    target: str
    schedule_id: int | None = None
    schedule_version: int | None = None


@dataclass(frozen=True)
class _Reach:
    """What paging needs to know of one person, read in bulk."""

    person_id: int
    display_name: str
    member: bool
    rules: tuple[dict[str, Any], ...]


def _directory(person_ids: set[int], context: PagingContext) -> dict[int, _Reach]:
    """The people, their verified methods and rules, and whether each is still a member.

    Read once per tick (the context keeps them), in four queries for all.
    """
    missing = person_ids - context.people.keys()
    if missing:
        context.people.update(dict.fromkeys(missing))
        context.people.update(_directory_read(missing))
    return {person_id: context.people[person_id] for person_id in person_ids
            if context.people[person_id] is not None}


def _directory_read(person_ids: set[int]) -> dict[int, _Reach]:
    people = list(Person.objects.filter(id__in=person_ids).only("id", "display_name", "user_id"))
    # By schema name, the tenant's lasting identity (a worker may hold an older copy
    # of the tenant's row).
    members = set(
        TenantMembership.objects.filter(
            tenant__schema_name=connection.schema_name,
            user_id__in=[person.user_id for person in people],
        ).values_list("user_id", flat=True)
    )
    methods: dict[int, dict[int, dict]] = defaultdict(dict)
    for method in ContactMethod.objects.filter(
        person_id__in=person_ids, verified_at__isnull=False
    ).values("id", "person_id", "kind", "address"):
        methods[method["person_id"]][method["id"]] = method
    rules: dict[int, list[tuple]] = defaultdict(list)
    for person_id, method_id, delay in NotificationRule.objects.filter(
        person_id__in=person_ids
    ).order_by("delay_minutes", "id").values_list(
        "person_id", "contact_method_id", "delay_minutes"
    ):
        rules[person_id].append((method_id, delay))
    directory = {}
    for person in people:
        verified = methods.get(person.id, {})
        plan = [(method, delay) for method, delay in rules[person.id] if method in verified]
        if not plan:  # no rule for a verified method: every verified method, at once
            plan = [(method_id, 0) for method_id in sorted(verified)]
        directory[person.id] = _Reach(
            person_id=person.id,
            display_name=person.display_name,
            member=person.user_id in members,
            rules=tuple(
                {
                    "contact_method_id": method_id,
                    "kind": verified[method_id]["kind"],
                    "address": verified[method_id]["address"],
                    "delay_minutes": delay,
                }
                for method_id, delay in plan
            ),
        )
    return directory


def _carried(context: PagingContext) -> Callable[[dict], bool]:
    """Whether an enabled receiver carries a rule's kind to its address."""
    return lambda rule: context.carrier_for(
        contact_kind=rule["kind"], address=rule["address"]
    ) is not None


def _unreachable(
    reach: _Reach | None, person_id: int, carriers: Callable[[dict], bool]
) -> Gap | None:
    """Why this person cannot be paged, or None if they can."""
    if reach is None:
        return Gap("person_missing", f"person #{person_id} no longer exists")
    if not reach.member:
        return Gap("not_a_member", f"{reach.display_name} is no longer a member of this tenant")
    if not reach.rules:
        return Gap("no_verified_contact", f"{reach.display_name} has no verified contact method")
    if not any(carriers(rule) for rule in reach.rules):
        kinds = ", ".join(sorted({rule["kind"] for rule in reach.rules}))
        return Gap(
            "no_carrier",
            f"{reach.display_name} cannot be paged: no enabled receiver carries {kinds} pages",
        )
    return None


def _fmt(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z")


def _candidates(
    targets: list[dict], *, now: datetime, context: PagingContext, members: dict[int, list[int]]
) -> tuple[list[_Candidate], list[Gap], list[dict]]:
    """People named by the targets (round robin left for later), gaps, round-robin targets."""
    found: list[_Candidate] = []
    gaps: list[Gap] = []
    round_robins: list[dict] = []
    for target in targets:
        kind, label = target["kind"], target["label"]
        if kind == "person":
            found.append(_Candidate(target["person_id"], label))
        elif kind == "team":
            if not members.get(target["team_id"]):
                gaps.append(Gap("empty_team", f"{label}: the team has no members"))
            found += [_Candidate(person, label) for person in members.get(target["team_id"], [])]
        elif kind == "round_robin":
            round_robins.append(target)
        elif kind == "on_call":
            on_call = context.on_call(
                schedule_id=target["schedule_id"], layer_id=target["layer_id"], at=now
            )
            if on_call.source == "missing":
                gaps.append(Gap("schedule_missing", f"{label}: the schedule or layer was deleted"))
            elif not on_call.people:
                after = context.next_on_call(
                    schedule_id=target["schedule_id"], layer_id=target["layer_id"], at=now
                )
                until = (
                    f"; next on call at {_fmt(after)}" if after else "; nobody in the next 14 days"
                )
                gaps.append(Gap(
                    "nobody_on_call",
                    f"nobody {label} (version {on_call.version}) at {_fmt(now)}{until}",
                ))
            found += [
                _Candidate(person_id, label, target["schedule_id"], on_call.version)
                for person_id in on_call.people
            ]
    return found, gaps, round_robins


def _round_robin_next(
    target: dict, members: list[int], directory: dict[int, _Reach],
    carriers: Callable[[dict], bool],
) -> tuple[_Candidate | None, list[Gap]]:
    """The team's next reachable member in turn, advancing the team's pointer under its lock."""
    label = target["label"]
    if not members:
        return None, [Gap("empty_team", f"{label}: the team has no members")]
    last = (
        Team.objects.select_for_update().filter(id=target["team_id"])
        .values_list("round_robin_last", flat=True).first()
    )
    if last is None:
        return None, [Gap("empty_team", f"{label}: the team was deleted")]
    gaps = []
    for step in range(1, len(members) + 1):
        index = (last + step) % len(members)
        person_id = members[index]
        problem = _unreachable(directory.get(person_id), person_id, carriers)
        if problem is None:
            Team.objects.filter(id=target["team_id"]).update(round_robin_last=index)
            return _Candidate(person_id, label), gaps
        gaps.append(Gap(problem.reason, f"{label}: skipped, {problem.detail}"))
    return None, gaps


def _resolve(
    targets: list[dict], *, now: datetime, context: PagingContext, fallback: bool
) -> tuple[list[PersonToPage], list[Gap]]:
    team_ids = {t["team_id"] for t in targets if t["kind"] in ("team", "round_robin")}
    members: dict[int, list[int]] = defaultdict(list)
    for team_id, person_id in (
        TeamMember.objects.filter(team_id__in=team_ids).order_by("position", "id")
        .values_list("team_id", "person_id")
    ) if team_ids else ():
        members[team_id].append(person_id)
    found, gaps, round_robins = _candidates(targets, now=now, context=context, members=members)
    wanted = {c.person_id for c in found} | {
        person_id for t in round_robins for person_id in members.get(t["team_id"], [])
    }
    directory = _directory(wanted, context)
    carriers = _carried(context)
    for target in round_robins:
        chosen, skipped = _round_robin_next(
            target, members.get(target["team_id"], []), directory, carriers
        )
        gaps += skipped
        if chosen is not None:
            found.append(chosen)
    people: dict[int, PersonToPage] = {}
    for candidate in found:
        if candidate.person_id in people:
            continue  # one page per person per level: the first target that chose them
        if len(people) == MAX_PEOPLE_PER_LEVEL:
            gaps.append(Gap("too_many_people", f"{candidate.target}: not paged, the level "
                            f"pages at most {MAX_PEOPLE_PER_LEVEL} people"))
            break
        reach = directory.get(candidate.person_id)
        problem = _unreachable(reach, candidate.person_id, carriers)
        if problem is not None:
            gaps.append(Gap(problem.reason, f"{candidate.target}: {problem.detail}"))
            continue
        people[candidate.person_id] = PersonToPage(
            person_id=candidate.person_id,
            display_name=reach.display_name,
            target=candidate.target,
            schedule_id=candidate.schedule_id,
            schedule_version=candidate.schedule_version,
            fallback=fallback,
            rules=reach.rules,
        )
    if fallback:
        gaps = [Gap(gap.reason, gap.detail, fallback=True) for gap in gaps]
    return list(people.values()), gaps


def level_people(
    *,
    level_snapshot: dict,
    now: datetime,
    context: PagingContext | None = None,
    receivers_reached: bool = False,
) -> LevelPeople:
    """The people the level pages now, the fallback's receivers if needed, and every gap.

    The fallback is asked when the level's people targets page nobody, or
    when the level reached nobody at all (`receivers_reached`: its own
    receivers were notified). A channel is not a person: receivers beside
    "on call in Primary" do not stand in for the person on call.
    """
    context = context or PagingContext()
    targets = level_snapshot.get("targets") or []
    primary = [t for t in targets if not t["fallback"]]
    fallbacks = [t for t in targets if t["fallback"]]
    result = LevelPeople()
    result.people, result.gaps = _resolve(primary, now=now, context=context, fallback=False)
    if result.people or not fallbacks or (receivers_reached and not primary):
        return result
    result.fallback_used = True
    result.receiver_ids = sorted(t["receiver_id"] for t in fallbacks if t["kind"] == "receiver")
    people_fallbacks = [t for t in fallbacks if t["kind"] != "receiver"]
    people, gaps = _resolve(people_fallbacks, now=now, context=context, fallback=True)
    result.people, result.gaps = people, result.gaps + gaps
    return result
