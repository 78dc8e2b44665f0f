"""What an action link does: acknowledge the incident it was sent for, as the person it went to."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.models import AlertGroup
from alerting.services import AlertGroupActionError, alert_group_acknowledge
from escalation.links import ActionLink
from escalation.paging.acks import link_acknowledger


class LinkActionRefused(Exception):
    """The link is good but cannot act; `status` is the HTTP status its page answers with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _checked(group: AlertGroup | None, link: ActionLink) -> AlertGroup:
    if group is None:
        raise LinkActionRefused(_("This alert group no longer exists."), status=404)
    if group.incident != link.incident:
        # The group resolved and fired again since the link was sent: whoever
        # got it was paged for the earlier incident, not this one.
        raise LinkActionRefused(_(
            "This link was sent for an earlier incident of this alert group, which has "
            "been resolved since; it cannot act on the one firing now."),
            status=410,
        )
    return group


def action_link_group(*, link: ActionLink) -> AlertGroup:
    """The alert group a link may act on (current schema), or LinkActionRefused."""
    return _checked(AlertGroup.objects.filter(id=link.alert_group_id).first(), link)


def alert_group_acknowledge_by_link(*, link: ActionLink, ip: str = "") -> tuple[AlertGroup, bool]:
    """Acknowledge the link's incident as its recipient; returns the group and whether it did.

    Checked under the group's row lock, so a re-fire that lands meanwhile
    is not acknowledged by a link of the incident before it. A page's link
    acknowledges as its person: "Alice, by the link in their email", and
    Alice's page is marked acknowledged while everyone else's stops.
    """
    who = link_acknowledger(link=link)
    with transaction.atomic():
        group = _checked(
            AlertGroup.objects.select_for_update().filter(id=link.alert_group_id).first(), link
        )
        if group.acknowledged_at is not None:
            return group, False
        try:
            group = alert_group_acknowledge(
                alert_group_id=group.id, by=who.by, person_id=who.person_id
            )
        except AlertGroupActionError as exc:
            raise LinkActionRefused(str(exc), status=409) from None
        after = {"incident": group.incident, "acknowledged_by": group.acknowledged_by}
        if link.person_id is not None:
            after.update(person_id=link.person_id, channel=link.channel, link=link.recipient)
        audit_record(
            actor=who.actor, source=AuditSource.SYSTEM, action="acknowledge",
            obj_type="alerting.alertgroup", obj_id=group.id, obj_repr=str(group)[:300],
            after=after, ip=ip,
        )
    return group, True
