"""Who acts from a message, and whether they may.

A chat user or a link's reader is first mapped to an Actor: a person of the
tenant (their profile), a member (their user), or for the acknowledge link
of a channel message the receiver it went to ("link:<receiver>"), as the
acknowledge link always did. Rights, checked on every action:

- a member of the tenant with the editor or admin role (operators too), or
- a person paged for this very incident (escalation.models.Page), still a
  member of the tenant, whatever their role (an auditor on call may
  acknowledge what paged them),
- a channel message's link only acknowledges (whoever reads the channel was
  told; resolving or silencing from it needs a member with rights),
- a ticket's user through the receiver's sync-back webhook ("jira:alice@example.com",
  `actor_for_integration`) acknowledges and resolves only: the request was
  authenticated by that receiver's own secret, and the user is no member.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from escalation.actions.tokens import Action
from escalation.models import Page, Person
from tenants.models import Role, TenantMembership

_ACTING_ROLES = (Role.EDITOR, Role.ADMIN)


@dataclass(frozen=True)
class Actor:
    """Who acts: a person, a member (user), or a channel message's link (`receiver_link`)."""

    person_id: int | None
    user_id: int | None
    display: str  # "Alice", as the message and the group's record name them
    # The receiver a channel message's acknowledge link was sent to ("oncall-slack").
    receiver_link: str = ""
    # A ticketing system's user acting through a receiver's webhook ("jira:alice@example.com").
    integration_user: str = ""

    @property
    def audit_name(self) -> str:
        """The audit trail's actor: the member's username, else the link's recipient."""
        if self.user_id is not None:
            username = (
                get_user_model().objects.filter(id=self.user_id)
                .values_list("username", flat=True).first()
            )
            if username:
                return username[:200]
        if self.integration_user:
            return self.integration_user[:200]
        if self.receiver_link:
            return f"link:{self.receiver_link}"[:200]
        if self.person_id is not None:
            return f"person:{self.person_id}"
        return self.display[:200] or "unknown"


def actor_for_person(*, person_id: int) -> Actor:
    """The actor for a person of the current tenant (a deleted person acts as nobody)."""
    person = Person.objects.filter(id=person_id).only("id", "user_id", "display_name").first()
    if person is None:
        return Actor(person_id=None, user_id=None, display=f"person #{person_id} (deleted)")
    return Actor(person_id=person.id, user_id=person.user_id, display=person.display_name)


def actor_for_user(*, user) -> Actor:
    """The actor for a signed-in user: their profile in this tenant if they have one."""
    person = Person.objects.filter(user_id=user.pk).only("id", "display_name").first()
    if person is not None:
        return Actor(person_id=person.id, user_id=user.pk, display=person.display_name)
    name = user.get_full_name() or user.get_username()
    return Actor(person_id=None, user_id=user.pk, display=name[:100])


def actor_for_receiver_link(*, receiver_name: str) -> Actor:
    """Whoever reads a channel message's acknowledge link: the receiver it went to."""
    return Actor(
        person_id=None, user_id=None, display=f"link:{receiver_name}"[:200],
        receiver_link=receiver_name,
    )


def actor_for_integration(*, receiver, external_user: str) -> Actor:
    """A ticket's user acting through `receiver`'s authenticated webhook (acknowledge, resolve)."""
    name = (external_user or "unknown")[:200]
    return Actor(
        person_id=None, user_id=None, display=name, receiver_link=receiver.name,
        integration_user=name,
    )


_INTEGRATION_ACTIONS = (Action.ACKNOWLEDGE, Action.RESOLVE)


def _member_role(user_id: int, tenant) -> str | None:
    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    if user is None:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return (
        TenantMembership.objects.filter(user_id=user_id, tenant_id=tenant.pk)
        .values_list("role", flat=True).first()
    )


def action_refusal(*, actor: Actor, action: Action, alert_group_id: int, incident: int) -> str:
    """Why the actor may not take the action on this incident; empty when they may."""
    tenant = connection.tenant
    if actor.integration_user and actor.user_id is None and actor.person_id is None:
        if action in _INTEGRATION_ACTIONS:
            return ""
        return _("%(who)s acts through a ticket: it acknowledges and resolves only.") % {
            "who": actor.display}
    if actor.receiver_link and actor.user_id is None and actor.person_id is None:
        if action == Action.ACKNOWLEDGE:
            return ""
        return _(
            "This link was sent to a channel: it acknowledges only. To %(action)s, sign in "
            "as a member with the editor or admin role."
        ) % {"action": action_label(action).lower()}
    user_id = actor.user_id
    if actor.person_id is not None and user_id is None:
        user_id = (
            Person.objects.filter(id=actor.person_id).values_list("user_id", flat=True).first()
        )
    role = _member_role(user_id, tenant) if user_id is not None else None
    if role in _ACTING_ROLES:
        return ""
    if role is not None and actor.person_id is not None and Page.objects.filter(
        alert_group_id=alert_group_id, incident=incident, person_id=actor.person_id
    ).exists():
        return ""
    if role is None:
        if not actor.display:
            return _("You are not a member of %(tenant)s; nothing was changed.") % {
                "tenant": tenant.name}
        return _("%(who)s is not a member of %(tenant)s; nothing was changed.") % {
            "who": actor.display, "tenant": tenant.name}
    return _(
        "%(who)s may not do this: it takes the editor or admin role, or being paged for "
        "this incident. Nothing was changed."
    ) % {"who": actor.display}


# Lazy: a message's five buttons translate their five labels, not thirty.
_ACTION_LABELS = {
    Action.ACKNOWLEDGE: pgettext_lazy("message action", "Acknowledge"),
    Action.UNACKNOWLEDGE: pgettext_lazy("message action", "Unacknowledge"),
    Action.RESOLVE: pgettext_lazy("message action", "Resolve"),
    Action.SILENCE_1H: pgettext_lazy("message action", "Silence 1 h"),
    Action.SILENCE_4H: pgettext_lazy("message action", "Silence 4 h"),
    Action.SILENCE_24H: pgettext_lazy("message action", "Silence 24 h"),
}


def action_label(action: Action | str) -> str:
    """The action as a button says it, in the active language: "Silence 4 h"."""
    return str(_ACTION_LABELS[Action(action)])
