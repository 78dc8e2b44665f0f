"""Who acts through an action page (/act/<token>/), decided before anything is done.

- A person's page link (its recipient "person:<id>") acts as that person,
  whoever opens it, as the acknowledge link always did: the link was sent to
  them alone, for this incident.
- A channel message's link (its recipient the receiver) is read by everyone
  in the channel. A member signed in with the editor or admin role acts as
  themselves, for any action. Otherwise the link only acknowledges, as
  "link:<receiver>" (as /ack/ does); resolving or silencing asks them to
  sign in first.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalation.actions.actors import (
    Actor,
    action_refusal,
    actor_for_person,
    actor_for_receiver_link,
    actor_for_user,
)
from escalation.actions.tokens import Action
from escalation.links import ActionLink
from receivers.models import Receiver


@dataclass(frozen=True)
class PageActor:
    actor: Actor | None  # None: only a member with rights may, and nobody is signed in
    channel: str  # for the audit trail: "email", "msteams link", ...
    sign_in_needed: bool = False


def action_page_actor(*, link: ActionLink, action: Action, user) -> PageActor:
    """Who the page acts as for this link and signed-in user (current tenant's schema)."""
    if link.person_id is not None:
        return PageActor(actor_for_person(person_id=link.person_id), link.channel or "link")
    kind = Receiver.objects.filter(name=link.recipient).values_list("kind", flat=True).first()
    channel = f"{kind} link" if kind else "link"
    group = link.alert_group_id
    if user is not None and user.is_authenticated:
        member = actor_for_user(user=user)
        if not action_refusal(actor=member, action=action, alert_group_id=group,
                              incident=link.incident):
            return PageActor(member, channel)
    if action == Action.ACKNOWLEDGE:
        return PageActor(actor_for_receiver_link(receiver_name=link.recipient), channel)
    return PageActor(None, channel, sign_in_needed=True)
