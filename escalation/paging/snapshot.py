"""A level's targets as a running chain keeps them: plain JSON, taken when the chain starts.

The snapshot names whom to ask (a schedule, a team, a person) and how to
say it in the history ("on call in Primary"); who that is *now* is resolved
when the step runs (escalation.paging.targets), so a chain in flight keeps
its targets while the schedule's rotation moves on.
"""

from __future__ import annotations

from typing import Any

from escalation.models import EscalationLevel, EscalationTarget, TargetKind


def _label(target: EscalationTarget) -> str:
    """How a person chosen through this target was chosen, for the page and the history."""
    kind = target.kind
    if kind == TargetKind.ON_CALL:
        layer = f" (layer {target.layer.name})" if target.layer_id else ""
        return f"on call in {target.schedule.name}{layer}"
    if kind == TargetKind.ROUND_ROBIN:
        return f"round robin of {target.team.name}"
    if kind == TargetKind.TEAM:
        return f"member of {target.team.name}"
    if kind == TargetKind.PERSON:
        return "named by the policy"
    return f"receiver {target.receiver.name}"


def target_snapshot(target: EscalationTarget) -> dict[str, Any]:
    return {
        "kind": target.kind,
        "fallback": target.fallback,
        "label": _label(target)[:200],
        "receiver_id": target.receiver_id,
        "person_id": target.person_id,
        "team_id": target.team_id,
        "schedule_id": target.schedule_id,
        "layer_id": target.layer_id,
    }


def level_targets_snapshot(level: EscalationLevel) -> tuple[list[int], list[dict[str, Any]]]:
    """The level's receivers (its own and its non-fallback receiver targets), and the rest.

    Non-fallback receiver targets join the level's receivers, so they are
    notified exactly as the level's receivers always were.
    """
    receiver_ids = {receiver.id for receiver in level.receivers.all()}
    targets = []
    for target in level.targets.all():
        if target.kind == TargetKind.RECEIVER and not target.fallback:
            receiver_ids.add(target.receiver_id)
        else:
            targets.append(target_snapshot(target))
    return sorted(receiver_ids), targets
