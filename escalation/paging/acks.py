"""Who acknowledged, when it is a person: named on the group, the pages and the audit trail.

A page's link names its person ("person:<id>") and the channel it went by,
so the group's record says "Alice, by the link in their email" and the
audit trail names Alice's username. A member acknowledging in the admin
or the API is matched to their profile, so their own page is marked
acknowledged too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from escalation.links import ActionLink
from escalation.models import Person


@dataclass(frozen=True)
class Acknowledger:
    person_id: int | None
    by: str  # for AlertGroup.acknowledged_by
    actor: str  # for the audit trail
    name: str  # whom the link was sent to, as its page says


def link_acknowledger(*, link: ActionLink) -> Acknowledger:
    """Who acts through a link: the person of a page's link, else the link's recipient."""
    person_id = link.person_id
    if person_id is None:
        return Acknowledger(None, link.actor, link.actor, link.recipient)
    # Not joined: the user lives in the shared schema and may be gone (no constraint).
    person = Person.objects.filter(id=person_id).first()
    by_what = f"by the link in their {link.channel}" if link.channel else "by their link"
    if person is None:
        name = f"person #{person_id} (deleted)"
        return Acknowledger(None, f"{name}, {by_what}"[:200], link.actor, name)
    username = (
        get_user_model().objects.filter(id=person.user_id).values_list("username", flat=True)
        .first()
    )
    return Acknowledger(
        person.id, f"{person.display_name}, {by_what}"[:200], (username or link.actor)[:200],
        person.display_name,
    )


def person_id_of_username(*, username: str) -> int | None:
    """The profile of the member acknowledging under this username, if any."""
    if not username or ":" in username:  # "api:<token>", "link:<recipient>": not a member
        return None
    return Person.objects.filter(user__username=username).values_list("id", flat=True).first()
