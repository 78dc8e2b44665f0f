"""Writes about schedules: overrides, the version every edit bumps, the whole-schedule check.

Every write path to a schedule's layers, members, restrictions, overrides or
temporary schedules calls `schedule_changed`, so a page records which version
of the schedule chose its person. Bad input raises django's ValidationError
keyed by the field at fault (tenant input: checked here, whoever calls).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor, audit_record
from escalation.models import Person, TeamMember
from escalation.models.schedules import OverrideKind, Schedule, ScheduleOverride
from escalation.schedules.snapshot import schedule_snapshot
from escalation.schedules.spec import OverrideSpec
from escalation.schedules.validation import (
    Problems,
    describe,
    merge,
    override_problems,
    spec_problems,
)
from tenants.models import TenantMembership

# An override covers at most a year, and a schedule has at most this many
# that have not ended: what one lookup has to index stays small.
MAX_OVERRIDE_LENGTH = timedelta(days=366)
MAX_OPEN_OVERRIDES = 1000
_NOTE_MAX = 200


def schedule_changed(*, schedule_id: int) -> None:
    """Bump the schedule's version (and its `updated_at`): its snapshots are now stale."""
    Schedule.objects.filter(pk=schedule_id).update(
        version=F("version") + 1, updated_at=timezone.now()
    )


def _actor(by: str | AuditActor, source: str, ip: str) -> AuditActor:
    if isinstance(by, AuditActor):
        return by
    return AuditActor(name=by or "system", source=source, ip=ip)


def _audit(*, actor: AuditActor, action: str, override: ScheduleOverride, after=None,
           before=None) -> None:
    audit_record(
        actor=actor.name, source=actor.source, ip=actor.ip, action=action,
        obj_type=override._meta.label_lower, obj_id=override.pk or "",
        obj_repr=f"{override.schedule}: {override}"[:300], before=before, after=after,
    )


def _override_state(override: ScheduleOverride) -> dict:
    return {
        "schedule_id": override.schedule_id, "kind": override.kind,
        "person_id": override.person_id, "replaces_id": override.replaces_id,
        "start": override.start, "end": override.end, "note": override.note,
    }


def people_not_members(*, person_ids: set[int], team_id: int | None) -> dict[int, str]:
    """Of these people, those who may not be on call here, with why (by person id).

    A person on call must be a current member of the tenant
    (tenants.TenantMembership for connection.tenant) and, when the schedule
    belongs to a team, a member of that team.
    """
    people = {p.pk: p for p in Person.objects.filter(pk__in=person_ids)}
    members = set(
        TenantMembership.objects.filter(
            tenant_id=connection.tenant.pk, user_id__in=[p.user_id for p in people.values()]
        ).values_list("user_id", flat=True)
    )
    in_team = set(
        TeamMember.objects.filter(team_id=team_id, person_id__in=person_ids)
        .values_list("person_id", flat=True)
    ) if team_id is not None else None
    why: dict[int, str] = {}
    for person_id in person_ids:
        person = people.get(person_id)
        if person is None:
            why[person_id] = _("person %(id)s does not exist") % {"id": person_id}
        elif person.user_id not in members:
            why[person_id] = _("%(person)s is not a member of this tenant") % {"person": person}
        elif in_team is not None and person_id not in in_team:
            why[person_id] = _("%(person)s is not in the schedule's team") % {"person": person}
    return why


def schedule_override_create(
    *,
    schedule: Schedule,
    kind: str,
    person: Person,
    replaces: Person | None = None,
    start: datetime,
    end: datetime,
    note: str = "",
    by: str | AuditActor = "",
    source: str = AuditSource.ADMIN,
    ip: str = "",
) -> ScheduleOverride:
    """Add an override to the schedule (validated, audited; the version is bumped).

    `by`: who, as the audit trail names them (a username, a token's actor) or
    an AuditActor; `source` and `ip` complete a plain name. Raises
    ValidationError keyed by kind, person, replaces, start, end, note, or
    schedule (too many overrides). Concurrent creates on one schedule are
    serialised by the schedule's row lock, so two overlapping ones cannot
    both pass the check.
    """
    actor = _actor(by, source, ip)
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        new = OverrideSpec(
            kind=kind, person=person.pk, replaces=replaces.pk if replaces else None,
            start=start, end=end,
        )
        problems = override_problems(new)
        if len(note or "") > _NOTE_MAX:
            problems = merge(problems, {"note": [
                _("At most %(max)d characters.") % {"max": _NOTE_MAX}]})
        if "end" not in problems and "start" not in problems and end - start > MAX_OVERRIDE_LENGTH:
            problems = merge(problems, {
                "end": [_("An override lasts at most %(days)d days.") % {
                    "days": MAX_OVERRIDE_LENGTH.days}]})
        refused = people_not_members(person_ids={person.pk}, team_id=schedule.team_id)
        if person.pk in refused:
            problems = merge(problems, {"person": [f"{refused[person.pk].capitalize()}."]})
        if not problems:
            problems = _overlap_problems(schedule=schedule, new=new)
        if not problems and ScheduleOverride.objects.filter(
            schedule=schedule, end__gt=timezone.now()
        ).count() >= MAX_OPEN_OVERRIDES:
            problems = {"schedule": [_(
                "The schedule has %(count)d overrides that have not ended; delete some first."
            ) % {"count": MAX_OPEN_OVERRIDES}]}
        if problems:
            raise ValidationError(problems)
        override = ScheduleOverride.objects.create(
            schedule=schedule, kind=kind, person=person, replaces=replaces, start=start,
            end=end, note=note or "", created_by=actor.name[:150],
        )
        schedule_changed(schedule_id=schedule.pk)
        _audit(actor=actor, action="override_create", override=override,
               after=_override_state(override))
    return override


def _overlap_problems(*, schedule: Schedule, new: OverrideSpec) -> Problems:
    same = Q(person_id=new.person)
    if new.kind == OverrideKind.REPLACE:
        same |= Q(kind=OverrideKind.REPLACE, replaces_id=new.replaces)
    clashing = (
        ScheduleOverride.objects.filter(schedule=schedule, start__lt=new.end, end__gt=new.start)
        .filter(same).select_related("person").order_by("start", "id")[:3]
    )
    messages = [
        _("It overlaps the %(override)s.") % {"override": describe(
            OverrideSpec(o.kind, o.person_id, o.replaces_id, o.start, o.end, o.pk),
            {o.person_id: str(o.person)},
        )}
        for o in clashing
    ]
    return {"start": messages} if messages else {}


def schedule_override_delete(
    *, override: ScheduleOverride, by: str | AuditActor = "", source: str = AuditSource.ADMIN,
    ip: str = "",
) -> None:
    """Delete the override (audited; the schedule's version is bumped)."""
    actor = _actor(by, source, ip)
    with transaction.atomic():
        Schedule.objects.select_for_update().filter(pk=override.schedule_id).first()
        before = _override_state(override)
        _audit(actor=actor, action="override_delete", override=override, before=before)
        ScheduleOverride.objects.filter(pk=override.pk).delete()
        schedule_changed(schedule_id=override.schedule_id)


def schedule_full_clean(*, schedule_id: int) -> None:
    """Check the whole schedule as stored; ValidationError keyed by field when it is wrong.

    Keys: time_zone, layers, members, shift_unit, shift_length, start_position,
    start_date, restrictions, weekday, end_time, overrides, temporaries,
    person (an override for someone who is not a member of the tenant, or of
    the schedule's team when it has one; people in rotations and temporary
    shifts must be members of the tenant, under members and temporaries).
    Messages name the layer or override concerned.
    """
    spec = schedule_snapshot(schedule_id=schedule_id)
    team_id = Schedule.objects.filter(pk=schedule_id).values_list("team_id", flat=True).first()
    in_layers = {p for layer in spec.layers for p in layer.members}
    in_layers |= {s.person for t in spec.temporaries for s in t.shifts}
    overriding = {o.person for o in spec.overrides}
    # Rotations and temporary shifts need members of the tenant; an override's
    # person, also of the schedule's team (who may stand in is the team's call).
    refused = people_not_members(person_ids=in_layers, team_id=None)
    refused_overrides = people_not_members(person_ids=overriding, team_id=team_id)
    names = dict(
        Person.objects.filter(pk__in=in_layers | overriding).values_list("pk", "display_name")
    )
    problems = spec_problems(spec, names)
    for layer in spec.layers:
        for person_id in dict.fromkeys(layer.members):
            if person_id in refused:
                problems.setdefault("members", []).append(
                    _("Layer %(layer)s: %(why)s.") % {
                        "layer": repr(layer.name), "why": refused[person_id]})
    for override in spec.overrides:
        if override.person in refused_overrides:
            problems.setdefault("person", []).append(
                _("The %(override)s: %(why)s.") % {
                    "override": describe(override, names),
                    "why": refused_overrides[override.person]})
    for temporary in spec.temporaries:
        for shift in temporary.shifts:
            if shift.person in refused:
                problems.setdefault("temporaries", []).append(
                    _("A temporary shift from %(start)s: %(why)s.") % {
                        "start": f"{shift.start:%Y-%m-%d %H:%M}", "why": refused[shift.person]})
    if problems:
        raise ValidationError(problems)
