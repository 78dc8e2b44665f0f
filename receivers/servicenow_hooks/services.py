"""ServiceNow's sync back: a ticket's change acknowledges or resolves its Herald incident.

- Resolved (6) or Closed (7): resolve.
- In Progress (2) with someone assigned: acknowledge (the assignee took it).
- Anything else, or a change made by Herald's own integration user
  (sys_updated_by) or carrying Herald's work-note marker: nothing, so what
  Herald wrote never comes back to it.

The actor is the ServiceNow user who made the change ("servicenow:<user>"),
acting through the receiver whose secret authenticated the request
(escalation.actions.actor_for_integration), audited as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalation.actions import (
    Action,
    ActionRequest,
    actor_for_integration,
    incident_action_apply,
)
from receivers.models import Receiver
from receivers.servicenow_hooks.payload import IncidentChange
from receivers.servicenow_hooks.selectors import ticket_incident
from receivers.transports.servicenow import (
    CLOSED,
    IN_PROGRESS,
    RESOLVED,
    WORK_NOTE_MARKER,
    ServiceNowSettings,
)
from tenants.models import Tenant

CHANNEL = "servicenow"


@dataclass(frozen=True)
class SyncOutcome:
    result: str  # "resolve", "acknowledge", "ignored", "refused"
    message: str
    status: int = 200


def herald_note(journal_entry: str) -> bool:
    """Whether the latest work note is Herald's (pure).

    A Business Rule's getJournalEntry(1) puts "<when> - <who> (Work notes)"
    on the line before the note itself, so the marker opens one of the first two.
    """
    lines = journal_entry.strip().splitlines()[:2]
    return any(line.lstrip().startswith(WORK_NOTE_MARKER) for line in lines)


def change_action(change: IncidentChange, *, integration_user: str) -> Action | None:
    """The Herald action a ticket's change asks for; None for none (pure)."""
    if integration_user and change.updated_by.lower() == integration_user.lower():
        return None
    if herald_note(change.work_notes):
        return None
    if change.state in (RESOLVED, CLOSED):
        return Action.RESOLVE
    if change.state == IN_PROGRESS and change.assigned_to:
        return Action.ACKNOWLEDGE
    return None


def servicenow_change_apply(
    *, tenant: Tenant, receiver: Receiver, settings: ServiceNowSettings, change: IncidentChange,
    ip: str = "",
) -> SyncOutcome:
    """Act on the Herald incident of the ticket, if the change asks for it."""
    action = change_action(change, integration_user=settings.updated_by())
    if action is None:
        return SyncOutcome("ignored", "Nothing to do in Herald for this change.")
    found = ticket_incident(receiver_id=receiver.id, sys_id=change.sys_id)
    if found is None:
        return SyncOutcome("ignored", "This ticket is no Herald incident of this receiver.")
    user = change.updated_by or change.assigned_to
    outcome = incident_action_apply(
        tenant=tenant,
        request=ActionRequest(alert_group_id=found.alert_group_id, incident=found.incident,
                              action=action),
        actor=actor_for_integration(receiver=receiver,
                                    external_user=f"servicenow:{user or 'unknown'}"),
        channel=CHANNEL,
        ip=ip,
    )
    if outcome.done or outcome.already:
        return SyncOutcome(str(action), outcome.message)
    return SyncOutcome("refused", outcome.message, status=outcome.status or 409)
