"""Whether an escalation target names what its kind needs (admin, config and API alike).

A target of one kind names one object: a receiver, a person, a team, or a
schedule (with at most one of its own layers). Anything else it names is a
mistake the member should hear about, not something silently ignored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from escalation.models import TargetKind

_NEEDS = {
    TargetKind.RECEIVER: "receiver",
    TargetKind.PERSON: "person",
    TargetKind.TEAM: "team",
    TargetKind.ROUND_ROBIN: "team",
    TargetKind.ON_CALL: "schedule",
}
_FIELDS = ("receiver", "person", "team", "schedule", "layer")


def escalation_target_check(
    *, kind: str, receiver=None, person=None, team=None, schedule=None, layer=None
) -> None:
    """ValidationError keyed by the field at fault; None when the target is whole."""
    if kind not in _NEEDS:
        raise ValidationError({"kind": "Choose what this target pages."})
    given = {"receiver": receiver, "person": person, "team": team, "schedule": schedule,
             "layer": layer}
    needed = _NEEDS[TargetKind(kind)]
    errors = {}
    if given[needed] is None:
        errors[needed] = f"A target of this kind names a {needed}."
    for name in _FIELDS:
        if name == needed or given[name] is None:
            continue
        if name == "layer" and kind == TargetKind.ON_CALL:
            if schedule is not None and layer.schedule_id != schedule.pk:
                errors["layer"] = f"This layer belongs to another schedule, not {schedule}."
            continue
        errors[name] = f"Leave this empty: a target of this kind pages its {needed}."
    if errors:
        raise ValidationError(errors)
