"""One action model for every channel: acknowledge, unacknowledge, resolve, silence.

    tokens    Action, the compact signed token of chat buttons, ActionRequest
    actors    Actor (who acts) and the rights check
    apply     incident_action_apply: the one service every channel calls
    group_changes   unacknowledge and silence-the-group services
    links     the signed action pages' URLs and what a message offers (MessageAction)

Chat helpers map their user to a person (`actor_for_person`) and call
`incident_action_apply` with what the token says.
"""

from escalation.actions.actors import (
    Actor,
    action_label,
    actor_for_integration,
    actor_for_person,
    actor_for_receiver_link,
    actor_for_user,
)
from escalation.actions.apply import ActionOutcome, group_state, incident_action_apply
from escalation.actions.tokens import (
    MAX_TOKEN_LENGTH,
    Action,
    ActionRequest,
    ActionTokenError,
    action_compact_token,
    action_compact_token_read,
    actions_for_state,
)

__all__ = [
    "MAX_TOKEN_LENGTH",
    "Action",
    "ActionOutcome",
    "ActionRequest",
    "ActionTokenError",
    "Actor",
    "action_compact_token",
    "action_compact_token_read",
    "action_label",
    "actions_for_state",
    "actor_for_integration",
    "actor_for_person",
    "actor_for_receiver_link",
    "actor_for_user",
    "group_state",
    "incident_action_apply",
]
