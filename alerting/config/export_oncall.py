"""The tenant's people, teams, schedules and level targets as the file states them (reads).

A contact method deployed from an ${ENV_VAR} reference is exported as that
reference, never as the address it stood for (`plain_secrets` gives the
address too, kept beside the reference, for the plan to compare).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import connection

from alerting.config.schema_oncall import (
    WEEKDAY_NAMES,
    ContactMethodSpec,
    LayerSpec,
    NotificationRuleSpec,
    OverrideSpec,
    PersonSpec,
    RestrictionSpec,
    ScheduleSpec,
    TargetSpec,
    TeamMemberSpec,
    TeamSpec,
    TemporaryShiftSpec,
    TemporarySpec,
)
from escalation.models import (
    ContactMethod,
    EscalationLevel,
    Person,
    Schedule,
    Team,
)
from tenants.models import TenantMembership

logger = logging.getLogger(__name__)
# Overrides written by applying a file; others (made in the admin, the API) are not the file's.
CONFIG_OVERRIDE_CREATOR = "config"


def member_usernames(*, usernames: set[str] | None = None) -> set[str]:
    """The usernames of the current tenant's members (of `usernames`, when given)."""
    members = TenantMembership.objects.filter(tenant_id=connection.tenant.pk)
    if usernames is not None:
        members = members.filter(user__username__in=usernames)
    return set(members.values_list("user__username", flat=True))


def usernames_by_person() -> dict[int, str]:
    """Each person's username (users live in the shared schema: one query for all)."""
    user_ids = dict(Person.objects.values_list("id", "user_id"))
    names = dict(
        get_user_model().objects.filter(id__in=user_ids.values()).values_list("id", "username")
    )
    return {person: names[user] for person, user in user_ids.items() if user in names}


def _method_spec(method: ContactMethod, *, plain_secrets: bool) -> ContactMethodSpec:
    if not method.address_reference:
        return ContactMethodSpec(kind=method.kind, address=method.address, label=method.label)
    if not plain_secrets:
        return ContactMethodSpec(
            kind=method.kind, address=method.address_reference, label=method.label
        )
    spec = ContactMethodSpec(kind=method.kind, address=method.address, label=method.label)
    spec._reference = method.address_reference
    return spec


def method_reference(methods: list[ContactMethod], method: ContactMethod) -> str:
    """How a rule names its method: the label, else the kind when alone of it, else the
    address as the file writes it (rule_method_index reads them in that order)."""
    if method.label and sum(1 for m in methods if m.label == method.label) == 1:
        return method.label
    if sum(1 for m in methods if m.kind == method.kind) == 1 and not any(
        m.label == method.kind for m in methods
    ):
        return method.kind
    return method.address_reference or method.address


def people_current(*, plain_secrets: bool = False) -> list[PersonSpec]:
    usernames = usernames_by_person()
    people = []
    for person in Person.objects.prefetch_related(
        "contact_methods", "notification_rules__contact_method"
    ):
        username = usernames.get(person.pk)
        if username is None:
            logger.warning("person %s: their user is gone; not exported", person.pk)
            continue
        methods = sorted(person.contact_methods.all(), key=lambda m: m.id)
        rules = sorted(person.notification_rules.all(), key=lambda r: (r.delay_minutes, r.id))
        people.append(PersonSpec(
            username=username,
            display_name="" if person.display_name == username else person.display_name,
            time_zone=person.time_zone, language=person.language,
            contact_methods=[_method_spec(m, plain_secrets=plain_secrets) for m in methods],
            notification_rules=[
                NotificationRuleSpec(method=method_reference(methods, rule.contact_method),
                                     delay_minutes=rule.delay_minutes)
                for rule in rules
            ],
        ))
    return sorted(people, key=lambda spec: spec.username)


def teams_current() -> list[TeamSpec]:
    usernames = usernames_by_person()
    return [
        TeamSpec(
            name=team.name,
            escalation_policy=team.escalation_policy.name if team.escalation_policy else None,
            members=[
                TeamMemberSpec(username=usernames[m.person_id], role=m.role)
                for m in sorted(team.memberships.all(), key=lambda m: (m.position, m.id))
                if m.person_id in usernames
            ],
        )
        for team in Team.objects.select_related("escalation_policy").prefetch_related(
            "memberships"
        ).order_by("name")
    ]


def schedules_current() -> list[ScheduleSpec]:
    """Overrides made by a file only: those made in the admin or the API are not its."""
    usernames = usernames_by_person()
    specs = []
    for schedule in Schedule.objects.select_related("team").prefetch_related(
        "layers__members", "layers__restrictions", "overrides", "temporaries__shifts"
    ).order_by("name"):
        layers = sorted(schedule.layers.all(), key=lambda layer: (-layer.priority, layer.name))
        overrides = sorted(
            (o for o in schedule.overrides.all() if o.created_by == CONFIG_OVERRIDE_CREATOR),
            key=lambda o: (o.start, o.id),
        )
        specs.append(ScheduleSpec(
            name=schedule.name, time_zone=schedule.time_zone,
            team=schedule.team.name if schedule.team else None,
            layers=[
                LayerSpec(
                    name=layer.name, priority=layer.priority, start_date=layer.start_date,
                    handoff_time=layer.handoff_time, shift_length=layer.shift_length,
                    shift_unit=layer.shift_unit, start_position=layer.start_position,
                    members=[
                        usernames.get(m.person_id, f"#{m.person_id}")
                        for m in sorted(layer.members.all(), key=lambda m: (m.position, m.id))
                    ],
                    restrictions=[
                        RestrictionSpec(
                            weekday=None if r.weekday is None else WEEKDAY_NAMES[r.weekday],
                            start=r.start_time, end=r.end_time,
                        )
                        for r in sorted(layer.restrictions.all(),
                                        key=lambda r: (r.weekday is not None, r.weekday or 0,
                                                       r.start_time, r.id))
                    ],
                )
                for layer in layers
            ],
            overrides=[
                OverrideSpec(
                    kind=o.kind, person=usernames.get(o.person_id, f"#{o.person_id}"),
                    replaces=usernames.get(o.replaces_id, f"#{o.replaces_id}")
                    if o.replaces_id else None,
                    start=o.start, end=o.end, note=o.note,
                )
                for o in overrides
            ],
            temporaries=[
                TemporarySpec(
                    start=t.start, end=t.end, note=t.note,
                    shifts=[
                        TemporaryShiftSpec(person=usernames.get(s.person_id, f"#{s.person_id}"),
                                           start=s.start, end=s.end)
                        for s in sorted(t.shifts.all(), key=lambda s: (s.start, s.id))
                    ],
                )
                for t in sorted(schedule.temporaries.all(), key=lambda t: (t.start, t.id))
            ],
        ))
    return specs


def level_targets(level: EscalationLevel, usernames: dict[int, str]) -> list[TargetSpec]:
    """The level's targets (prefetched `targets` with their rows), others before fallbacks."""
    targets = []
    for target in sorted(level.targets.all(), key=lambda t: (t.fallback, t.id)):
        named = {
            "receiver": lambda t: {"receiver": t.receiver.name},
            "person": lambda t: {"person": usernames.get(t.person_id, f"#{t.person_id}")},
            "team": lambda t: {"team": t.team.name},
            "round_robin": lambda t: {"round_robin": t.team.name},
            "on_call": lambda t: {"on_call": t.schedule.name,
                                  **({"layer": t.layer.name} if t.layer_id else {})},
        }[target.kind](target)
        targets.append(TargetSpec(**named, fallback=target.fallback))
    return targets
