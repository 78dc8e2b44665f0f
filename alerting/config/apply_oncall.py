"""Applying the on-call sections: people, teams, schedules and levels' targets (writes).

Called by alerting.config.apply inside its transaction, one change at a
time, in the order of ConfigDocument.SECTIONS; a failure raises
ConfigApplyError naming what failed, and the whole file rolls back.

- A person's contact method with an unchanged kind and address keeps its row
  and its verification; a new address is a new, unverified method (never
  paged before its owner confirms it).
- Layers are kept by name (a level's target may point at one); their
  members and restrictions, and a schedule's temporary schedules, are made as
  the file says. Of the overrides only those a file wrote are the file's.
- Each schedule written is bumped (`schedule_changed`) and then checked as a
  whole (`schedule_full_clean`), admin-made overrides included.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from alerting.config.envrefs import env_resolve, has_reference
from alerting.config.export_oncall import CONFIG_OVERRIDE_CREATOR, member_usernames
from alerting.config.schema_oncall import (
    WEEKDAY_NAMES,
    PersonSpec,
    ScheduleSpec,
    TargetSpec,
    TeamSpec,
    rule_method_index,
)
from escalation.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Person,
    Schedule,
    ScheduleLayer,
    Team,
    TemporarySchedule,
)
from escalation.schedules.services import schedule_changed, schedule_full_clean
from receivers.models import Receiver
from receivers.transports.registry import contact_address_transport, contact_kind_choices


class OnCallApplyError(ValueError):
    """Raised for what cannot be written; alerting.config.apply names it ConfigApplyError."""


def people_resolve(*, people: list[PersonSpec], env: Mapping[str, str]) -> list[PersonSpec]:
    """Each ${ENV_VAR} in an address replaced by its value, the reference kept beside it,
    and each address as its channel writes it."""
    resolved = []
    for person in people:
        methods = []
        for method in person.contact_methods:
            address, reference = method.address, ""
            if has_reference(address):
                address, missing = env_resolve(address, env)
                reference = method.address
                if missing:
                    raise OnCallApplyError(f"person {person.username!r}: "
                                           f"{', '.join(missing)} not set in the environment")
            copy = method.model_copy(update={"address": _address_clean(
                person.username, method.kind, address)})
            copy._reference = reference
            methods.append(copy)
        resolved.append(person.model_copy(update={"contact_methods": methods}))
    return resolved


def _address_clean(username: str, kind: str, address: str) -> str:
    if kind not in dict(contact_kind_choices()):
        raise OnCallApplyError(f"person {username!r}: {kind!r} is not a channel that pages people")
    try:
        return contact_address_transport(kind).contact_address_clean(address)
    except ValueError:
        # The value may be a secret (it came from the environment): never in the message.
        raise OnCallApplyError(f"person {username!r}: the {kind} address is not valid") from None


class _People:
    """People by username, each looked up once (a schedule names the same ones often)."""

    def __init__(self) -> None:
        self._found: dict[str, Person] = {}

    def __call__(self, username: str) -> Person:
        if username not in self._found:
            user_ids = get_user_model().objects.filter(username=username).values_list(
                "id", flat=True)
            person = Person.objects.filter(user_id__in=list(user_ids)).first()
            if person is None:
                raise OnCallApplyError(f"no person {username!r} (give them a profile under "
                                       "people)")
            self._found[username] = person
        return self._found[username]


def person_apply(*, spec: PersonSpec) -> None:
    user = get_user_model().objects.filter(username=spec.username).first()
    if user is None or not member_usernames(usernames={spec.username}):
        raise OnCallApplyError(f"person {spec.username!r}: not a member of this tenant")
    person, _ = Person.objects.update_or_create(user_id=user.pk, defaults={
        "display_name": spec.display_name or spec.username,
        "time_zone": spec.time_zone, "language": spec.language,
    })
    existing = {(m.kind, m.address): m for m in person.contact_methods.all()}
    kept: list[ContactMethod] = []
    for method in spec.contact_methods:
        row = existing.pop((method.kind, method.address), None)
        if row is None:
            row = ContactMethod.objects.create(
                person=person, kind=method.kind, address=method.address, label=method.label,
                address_reference=method._reference,
            )
        elif (row.label, row.address_reference) != (method.label, method._reference):
            row.label, row.address_reference = method.label, method._reference
            row.save(update_fields=["label", "address_reference"])
        kept.append(row)
    ContactMethod.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    person.notification_rules.all().delete()
    for rule in spec.notification_rules:
        found = rule_method_index(spec, rule.method)
        if len(found) != 1:
            raise OnCallApplyError(
                f"person {spec.username!r}: notification rule names {rule.method!r}, "
                f"which is {'no' if not found else 'more than one'} contact method"
            )
        person.notification_rules.create(contact_method=kept[found[0]],
                                         delay_minutes=rule.delay_minutes)


def person_remove(*, username: str) -> None:
    """The profile goes, and with it their place in rotations, overrides and temporary
    shifts: each schedule they were in gets a new version."""
    user_ids = get_user_model().objects.filter(username=username).values_list("id", flat=True)
    people = Person.objects.filter(user_id__in=list(user_ids))
    schedules = set(Schedule.objects.filter(
        Q(layers__members__person__in=people) | Q(overrides__person__in=people)
        | Q(overrides__replaces__in=people) | Q(temporaries__shifts__person__in=people)
    ).values_list("id", flat=True))
    people.delete()
    for schedule_id in sorted(schedules):
        schedule_changed(schedule_id=schedule_id)


def team_apply(*, spec: TeamSpec) -> None:
    """The team and its members in order; its policy is set by `team_policies_apply`."""
    team, _ = Team.objects.get_or_create(name=spec.name)
    person = _People()
    people = [person(member.username) for member in spec.members]
    team.memberships.exclude(person__in=people).delete()
    for position, (member, person) in enumerate(zip(spec.members, people, strict=True)):
        team.memberships.update_or_create(
            person=person, defaults={"role": member.role, "position": position}
        )


def team_policies_apply(*, teams: list[TeamSpec], names: set[str]) -> None:
    """After every policy exists: a team's policy may page the team itself."""
    for spec in teams:
        if spec.name not in names:
            continue
        policy = None
        if spec.escalation_policy:
            policy = EscalationPolicy.objects.filter(name=spec.escalation_policy).first()
            if policy is None:
                raise OnCallApplyError(
                    f"team {spec.name!r}: no escalation policy named {spec.escalation_policy!r}"
                )
        Team.objects.filter(name=spec.name).update(escalation_policy=policy)


def schedule_apply(*, spec: ScheduleSpec) -> None:
    person = _People()
    team = None
    if spec.team:
        team = Team.objects.filter(name=spec.team).first()
        if team is None:
            raise OnCallApplyError(f"schedule {spec.name!r}: no team named {spec.team!r}")
    schedule, _ = Schedule.objects.update_or_create(
        name=spec.name, defaults={"time_zone": spec.time_zone, "team": team}
    )
    schedule.layers.exclude(name__in=[layer.name for layer in spec.layers]).delete()
    for layer_spec in sorted(spec.layers, key=lambda layer: -layer.priority):
        layer, _ = ScheduleLayer.objects.update_or_create(schedule=schedule, name=layer_spec.name,
                                                          defaults={
            "priority": layer_spec.priority, "start_date": layer_spec.start_date,
            "handoff_time": layer_spec.handoff_time, "shift_length": layer_spec.shift_length,
            "shift_unit": layer_spec.shift_unit, "start_position": layer_spec.start_position,
        })
        layer.members.all().delete()
        LayerMember.objects.bulk_create(
            LayerMember(layer=layer, person=person(username), position=position)
            for position, username in enumerate(layer_spec.members)
        )
        layer.restrictions.all().delete()
        for restriction in layer_spec.restrictions:
            layer.restrictions.create(
                weekday=None if restriction.weekday is None
                else WEEKDAY_NAMES.index(restriction.weekday),
                start_time=restriction.start, end_time=restriction.end,
            )
    schedule.overrides.filter(created_by=CONFIG_OVERRIDE_CREATOR).delete()
    for override in spec.overrides:
        schedule.overrides.create(
            kind=override.kind, person=person(override.person),
            replaces=person(override.replaces) if override.replaces else None,
            start=override.start, end=override.end, note=override.note,
            created_by=CONFIG_OVERRIDE_CREATOR,
        )
    schedule.temporaries.all().delete()
    for temporary_spec in spec.temporaries:
        temporary = TemporarySchedule.objects.create(
            schedule=schedule, start=temporary_spec.start, end=temporary_spec.end,
            note=temporary_spec.note,
        )
        for shift in temporary_spec.shifts:
            temporary.shifts.create(person=person(shift.person), start=shift.start,
                                    end=shift.end)
    schedule_changed(schedule_id=schedule.pk)
    try:
        schedule_full_clean(schedule_id=schedule.pk)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        ) if hasattr(exc, "error_dict") else " ".join(exc.messages)
        raise OnCallApplyError(f"schedule {spec.name!r}: {problems}") from None


def level_targets_apply(*, level: EscalationLevel, targets: list[TargetSpec]) -> None:
    for spec in sorted(targets, key=lambda target: target.fallback):
        target = EscalationTarget(level=level, kind=spec.kind, fallback=spec.fallback)
        if spec.receiver:
            target.receiver = Receiver.objects.filter(name=spec.receiver).first()
            _found(target.receiver, "receiver", spec.receiver)
        elif spec.person:
            target.person = _People()(spec.person)
        elif spec.team or spec.round_robin:
            target.team = Team.objects.filter(name=spec.team or spec.round_robin).first()
            _found(target.team, "team", spec.team or spec.round_robin)
        else:
            target.schedule = Schedule.objects.filter(name=spec.on_call).first()
            _found(target.schedule, "schedule", spec.on_call)
            if spec.layer:
                target.layer = target.schedule.layers.filter(name=spec.layer).first()
                _found(target.layer, f"layer of schedule {spec.on_call!r}", spec.layer)
        target.save()


def _found(row: object, what: str, name: str) -> None:
    if row is None:
        raise OnCallApplyError(f"no {what} named {name!r}")
