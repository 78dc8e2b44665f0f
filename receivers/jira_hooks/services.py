"""Jira's sync back: an issue's status change acknowledges or resolves its Herald incident.

- Moved to a status of the done category: resolve.
- Moved to one of the receiver's `acknowledged_statuses`: acknowledge.
- Anything else (a comment, another field, another event), or a change made
  by Herald's own API user: nothing, so what Herald did in Jira (its
  transitions, its comments) never comes back to it. Herald's API user is
  the `herald_user` setting, else what Jira's /myself says of the
  receiver's credentials (asked once per process and receiver).

The actor is the Jira user who made the change ("jira:<email or name>"),
acting through the receiver whose secret authenticated the request
(escalation.actions.actor_for_integration), audited as such.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.db import connection

from escalation.actions import (
    Action,
    ActionRequest,
    actor_for_integration,
    incident_action_apply,
)
from receivers.jira_hooks.payload import IssueChange
from receivers.jira_hooks.selectors import issue_incident
from receivers.models import Receiver
from receivers.transports.errors import TransportError
from receivers.transports.jira import JiraSettings, JiraTransport
from tenants.models import Tenant

logger = logging.getLogger(__name__)

CHANNEL = "jira"
UPDATED = "jira:issue_updated"

# (schema, receiver id, base URL, credential fingerprint) -> Herald's Jira user.
_learned: dict[tuple[str, int, str, int], str] = {}
_learned_lock = threading.Lock()


@dataclass(frozen=True)
class SyncOutcome:
    result: str  # "resolve", "acknowledge", "ignored", "refused"
    message: str
    status: int = 200


def change_action(
    change: IssueChange, *, settings: JiraSettings, herald_user: str
) -> Action | None:
    """The Herald action an issue's change asks for; None for none (pure)."""
    if change.event != UPDATED or not change.status:
        return None
    if herald_user and change.user_id.casefold() == herald_user.casefold():
        return None
    if change.status_category == "done":
        return Action.RESOLVE
    if change.status.casefold() in {name.casefold() for name in settings.acknowledged_statuses}:
        return Action.ACKNOWLEDGE
    return None


def jira_herald_user(*, receiver: Receiver, settings: JiraSettings, tenant: Tenant) -> str:
    """Herald's API user in this Jira: the setting, else learned from /myself ("" if unknown)."""
    if settings.herald_user:
        return settings.herald_user
    credential = hash((settings.email, settings.secret("api_token"),
                       settings.secret("personal_access_token")))
    key = (connection.schema_name, receiver.id, settings.base_url, credential)
    with _learned_lock:
        if key in _learned:
            return _learned[key]
    try:
        user = JiraTransport(
            config=receiver.config or {}, secrets=receiver.secrets or {},
            allow_private=tenant.allow_private_targets,
        ).myself()
    except TransportError as exc:
        # Unknown, so nothing is ignored by user: Herald's own transitions are
        # still harmless (resolving a resolved incident does nothing).
        logger.warning("jira receiver %s: /myself failed: %s", receiver.id, exc.message)
        return ""
    with _learned_lock:
        _learned[key] = user
    return user


def jira_change_apply(
    *, tenant: Tenant, receiver: Receiver, settings: JiraSettings, change: IssueChange,
    ip: str = "",
) -> SyncOutcome:
    """Act on the Herald incident of the issue, if the change asks for it."""
    if change.event != UPDATED or not change.status:
        return SyncOutcome("ignored", "Nothing to do in Herald for this change.")
    herald_user = jira_herald_user(receiver=receiver, settings=settings, tenant=tenant)
    action = change_action(change, settings=settings, herald_user=herald_user)
    if action is None:
        return SyncOutcome("ignored", "Nothing to do in Herald for this change.")
    found = issue_incident(receiver_id=receiver.id, issue_key=change.issue_key)
    if found is None:
        return SyncOutcome("ignored", "This issue is no Herald incident of this receiver.")
    outcome = incident_action_apply(
        tenant=tenant,
        request=ActionRequest(alert_group_id=found[0], incident=found[1], action=action),
        actor=actor_for_integration(
            receiver=receiver, external_user=f"jira:{change.user_name or 'unknown'}"
        ),
        channel=CHANNEL,
        ip=ip,
    )
    if outcome.done or outcome.already:
        return SyncOutcome(str(action), outcome.message)
    return SyncOutcome("refused", outcome.message, status=outcome.status or 409)
