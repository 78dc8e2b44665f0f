"""The one service behind every channel's buttons and action links.

A chat button (compact token), an action page (signed link) or any later
channel asks `incident_action_apply` with what the token says and who the
channel says acts. It checks, under the group's row lock, that the group
exists and is still on the incident the message was about, that the actor
may act (escalation.actions.actors), and that the action still makes sense;
a second click is no error but says who did it already. What it did is
audited with the person and the channel, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.models import AlertGroup, AlertStatus
from alerting.services import (
    AlertGroupActionError,
    SilenceError,
    alert_group_acknowledge,
    alert_group_resolve,
)
from escalation.actions.actors import Actor, action_label, action_refusal
from escalation.actions.group_changes import (
    SILENCE_DURATIONS,
    alert_group_silence,
    alert_group_unacknowledge,
)
from escalation.actions.tokens import Action, ActionRequest
from tenants.models import Tenant

FIRING, ACKNOWLEDGED, RESOLVED = "firing", "acknowledged", "resolved"


@dataclass(frozen=True)
class ActionOutcome:
    """What the channel shows: whether it acted, and the words for the person who clicked."""

    done: bool
    message: str
    group_state: str  # "firing", "acknowledged", "resolved"; "" when the group is gone
    # A second click: nothing to do, `by` did it already.
    already: bool = False
    by: str = ""
    # The HTTP status an action page answers with (403 refused, 409/410 stale, ...).
    status: int = 200


def group_state(group: AlertGroup) -> str:
    if group.status == AlertStatus.RESOLVED:
        return RESOLVED
    return ACKNOWLEDGED if group.acknowledged_at is not None else FIRING


def _refused(message: str, status: int, state: str = "") -> ActionOutcome:
    return ActionOutcome(done=False, message=message, group_state=state, status=status)


def _already(message: str, by: str, state: str) -> ActionOutcome:
    return ActionOutcome(done=False, message=message, group_state=state, already=True, by=by)


def incident_action_apply(
    *, tenant: Tenant, request: ActionRequest, actor: Actor, channel: str, ip: str = "",
    source: str = AuditSource.CHAT,
) -> ActionOutcome:
    """Take the action on the incident as the actor, if they may; never raises for a refusal.

    `channel` is what the person acted from ("slack", "telegram", "email"),
    recorded in the audit trail; `source` is AuditSource.CHAT for a chat
    button and AuditSource.LINK for an action page.
    """
    with tenant_context(tenant), transaction.atomic():
        group = AlertGroup.objects.select_for_update().filter(id=request.alert_group_id).first()
        if group is None:
            return _refused(_("This alert group no longer exists."), 404)
        state = group_state(group)
        if group.incident != request.incident:
            return _refused(_(
                "This message was about an earlier incident of this alert group, which has "
                "been resolved since; it cannot act on the one firing now."), 410, state,
            )
        refusal = action_refusal(
            actor=actor, action=request.action, alert_group_id=group.id, incident=group.incident
        )
        if refusal:
            return _refused(refusal, 403, state)
        outcome, details = _apply(group, request.action, actor, channel)
        if outcome.done:
            audit_record(
                actor=actor.audit_name, source=source, action=str(request.action),
                obj_type="alerting.alertgroup", obj_id=group.id, obj_repr=str(group)[:300],
                after={
                    "incident": group.incident, "person_id": actor.person_id,
                    "person": actor.display, "channel": channel[:32], **details,
                },
                ip=ip,
            )
    return outcome


def _by(actor: Actor) -> str:
    """The name the group's record keeps (acknowledged_by, resolved_by).

    A person's name; a member without a profile by username, which the
    acknowledge service matches to nobody's page by mistake.
    """
    return actor.display if actor.person_id is not None or actor.receiver_link else actor.audit_name


def _apply(
    group: AlertGroup, action: Action, actor: Actor, channel: str
) -> tuple[ActionOutcome, dict]:
    state = group_state(group)
    if state == RESOLVED:
        by = group.resolved_by or "Alertmanager"
        if action == Action.RESOLVE:
            return _already(_("Already resolved by %(by)s.") % {"by": by}, by, state), {}
        return _refused(
            _("This incident is resolved (by %(by)s); there is nothing to %(action)s any more.")
            % {"by": by, "action": action_label(action).lower()}, 409, state,
        ), {}
    name = _by(actor)
    try:
        if action == Action.ACKNOWLEDGE:
            if group.acknowledged_at is not None:
                by = group.acknowledged_by
                return _already(_("Already acknowledged by %(by)s.") % {"by": by}, by, state), {}
            group = alert_group_acknowledge(
                alert_group_id=group.id, by=name, person_id=actor.person_id
            )
            return _done(_("Acknowledged by %(who)s.") % {"who": actor.display}, group), {}
        if action == Action.UNACKNOWLEDGE:
            if group.acknowledged_at is None:
                return _already(
                    _("Nobody has acknowledged it: nothing to undo."), "", state), {}
            before = group.acknowledged_by
            group = alert_group_unacknowledge(alert_group_id=group.id)
            return _done(
                _("Unacknowledged by %(who)s; escalation runs again.") % {"who": actor.display},
                group,
            ), {"was_acknowledged_by": before}
        if action == Action.RESOLVE:
            group = alert_group_resolve(alert_group_id=group.id, by=name)
            return _done(_("Resolved by %(who)s.") % {"who": actor.display}, group), {}
        silence, made = alert_group_silence(
            alert_group_id=group.id, action=action, by=name,
            # The silence's record stays in English, whoever's language acted.
            comment=f"{_english_label(action)} from {channel or 'a message'} by {actor.display}, "
            f"alert group {group.id}, incident {group.incident}.",
        )
    except (AlertGroupActionError, SilenceError) as exc:
        return _refused(str(exc), 409, state), {}
    until = f"{silence.ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if not made:
        message = (
            _("Already silenced by %(who)s until %(until)s.")
            % {"who": silence.created_by, "until": until}
            if silence.created_by
            else _("Already silenced until %(until)s.") % {"until": until}
        )
        return _already(message, silence.created_by, state), {}
    hours = int(SILENCE_DURATIONS[action].total_seconds() // 3600)
    silenced = _("Silenced for %(hours)s h by %(who)s, until %(until)s.") % {
        "hours": hours, "who": actor.display, "until": until}
    return _done(silenced, group), {
        "silence_id": silence.id, "matchers": silence.matchers,
        "ends_at": silence.ends_at.isoformat(),
    }


def _english_label(action: Action) -> str:
    with translation.override("en"):
        return action_label(action)


def _done(message: str, group: AlertGroup) -> ActionOutcome:
    return ActionOutcome(done=True, message=message, group_state=group_state(group))
