"""A person's page: their notification rules, run in turn until someone acknowledges.

A page starts with its level's step and runs the rules due at once in that
transaction; each later rule is due `delay_minutes` after the page started.
The due time lives in the database (Page.next_rule_at): the periodic tick
runs every due rule even after a restart, and an ETA task only makes it
prompt. A rule run locks the page's row and checks that it is still the rule
due (a stale or duplicate task exits), as the chain's steps do.

Each rule becomes a notification for the receiver that carries its
channel's pages, addressed to the person's verified contact method
(receivers.delivery sends it to that address, never grouped, folded or
failed over). A rule that cannot be sent is recorded on the page and as a
gap. The first acknowledgement by anyone stops every page (the acker's
becomes ACKNOWLEDGED); a resolve stops them; so does the chain moving on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerting.models import AlertGroup, AlertStatus
from alerting.selectors import alert_group_firing_snapshot
from escalation.models import ContactMethod, Escalation, Page, PageState
from escalation.paging.context import PagingContext
from escalation.paging.history import rule_failed_record
from escalation.paging.targets import PersonToPage
from receivers.delivery import notifications_enqueue
from receivers.models import Notification

logger = logging.getLogger(__name__)


def _due_at(page: Page, index: int) -> datetime | None:
    if index >= len(page.rules):
        return None
    return page.started_at + timedelta(minutes=page.rules[index]["delay_minutes"])


def _schedule(page: Page) -> None:
    """On commit, an ETA task for the page's next rule (the tick covers a lost one)."""
    from escalation.tasks import page_rule

    if page.next_rule_at is None:
        return
    token, eta = (page.id, page.next_rule), page.next_rule_at

    def send() -> None:
        try:
            page_rule.apply_async(token, eta=eta)
        except Exception as exc:  # broker down (kombu raises several types): the tick runs it
            logger.warning("page rule left for the tick: %s", type(exc).__name__)

    transaction.on_commit(send)


def _rule_send(
    page: Page, rule: dict, *, alerts: list[dict], context: PagingContext, fresh: bool
) -> Notification | None:
    """The rule's notification, or None with the failure recorded on the rule and as a gap.

    `fresh`: the rule was read with the page just now; a later rule checks
    again that its method is still verified, and takes its current address.
    """
    address = rule["address"]
    if not fresh:
        current = ContactMethod.objects.filter(
            id=rule["contact_method_id"], person_id=page.person_id, verified_at__isnull=False
        ).values_list("address", flat=True).first()
        if current is None:
            rule["state"] = "failed"
            rule["error"] = "the contact method is gone or no longer verified"
            rule_failed_record(page=page, reason="no_verified_contact",
                               detail=f"{rule['kind']} rule: {rule['error']}")
            return None
        address = current
    carrier = context.carriers().get(rule["kind"])
    if carrier is None:
        rule["state"] = "failed"
        rule["error"] = f"no enabled receiver carries {rule['kind']} pages"
        rule_failed_record(
            page=page, reason="no_carrier", detail=f"{rule['kind']} rule: {rule['error']}"
        )
        return None
    notification = Notification.objects.create(
        receiver=carrier, receiver_name=carrier.name, channel=carrier.kind,
        alert_group_id=page.alert_group_id, status=AlertStatus.FIRING, alerts=alerts,
        page=page, contact_method_id=rule["contact_method_id"], recipient_address=address,
    )
    rule["state"], rule["notification_id"] = "sent", notification.id
    return notification


def _rules_run(page: Page, *, now: datetime, context: PagingContext, fresh: bool,
               alerts: list[dict] | None = None) -> list[int]:
    """Every rule due by `now`, in order; the page's next rule and its due time advanced."""
    ids = []
    while (due := _due_at(page, page.next_rule)) is not None and due <= now:
        if alerts is None:
            alerts = alert_group_firing_snapshot(alert_group_id=page.alert_group_id)
        notification = _rule_send(
            page, page.rules[page.next_rule], alerts=alerts, context=context, fresh=fresh
        )
        if notification is not None:
            ids.append(notification.id)
        page.next_rule += 1
    page.next_rule_at = _due_at(page, page.next_rule)
    if page.next_rule_at is None:
        page.state, page.stopped_at = PageState.FINISHED, now
    if ids:
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    _schedule(page)
    return ids


def page_start(
    *, escalation: Escalation, level: int, person: PersonToPage, now: datetime,
    context: PagingContext, alerts: list[dict],
) -> Page:
    """Page one person for one level: the page recorded, its rules due at once sent."""
    group = escalation.alert_group
    page = Page(
        escalation=escalation, alert_group_id=group.id, incident=group.incident, level=level,
        person_id=person.person_id, person_name=person.display_name[:100],
        target=person.target[:200], schedule_id=person.schedule_id,
        schedule_version=person.schedule_version,
        rules=[{**rule, "state": "due"} for rule in person.rules],
    )
    page.save()
    page.started_at = now  # auto_now_add took the clock; the step's `now` is the page's start
    _rules_run(page, now=now, context=context, fresh=True, alerts=alerts)
    Page.objects.filter(id=page.id).update(
        started_at=now, rules=page.rules, next_rule=page.next_rule,
        next_rule_at=page.next_rule_at, state=page.state, stopped_at=page.stopped_at,
    )
    return page


def page_rule_run(
    *, page_id: int, rule: int | None = None, context: PagingContext | None = None
) -> bool:
    """Run the page's due rules; True if it ran.

    With `rule` (from an ETA task), anything but exactly that rule is stale
    and exits. A page whose incident was acknowledged or resolved stops.
    """
    now = timezone.now()
    context = context or PagingContext()
    with transaction.atomic():
        page = (
            Page.objects.select_for_update(of=("self",)).select_related("escalation")
            .filter(id=page_id).first()
        )
        if page is None or page.state != PageState.ACTIVE:
            return False
        if rule is not None and page.next_rule != rule:
            return False
        if page.next_rule_at is None or page.next_rule_at > now:
            return False
        group = AlertGroup.objects.filter(id=page.alert_group_id).values(
            "acknowledged_at", "status", "incident"
        ).first()
        if (
            group is None or group["acknowledged_at"] is not None
            or group["status"] == AlertStatus.RESOLVED or group["incident"] != page.incident
        ):
            page.state, page.stopped_at, page.next_rule_at = PageState.STOPPED, now, None
            page.save(update_fields=["state", "stopped_at", "next_rule_at"])
            return False
        _rules_run(page, now=now, context=context, fresh=False)
        page.save(update_fields=["rules", "next_rule", "next_rule_at", "state", "stopped_at"])
    return True


def pages_stop(
    *, alert_group_id: int, state: str = PageState.STOPPED,
    acknowledged_by_person_id: int | None = None,
) -> int:
    """Stop the group's running pages; the acker's pages of this incident become ACKNOWLEDGED.

    Returns how many running pages stopped.
    """
    now = timezone.now()
    if acknowledged_by_person_id is not None:
        incident = AlertGroup.objects.filter(id=alert_group_id).values("incident")[:1]
        Page.objects.filter(
            alert_group_id=alert_group_id, person_id=acknowledged_by_person_id,
            incident=incident, state__in=[PageState.ACTIVE, PageState.FINISHED],
        ).update(state=PageState.ACKNOWLEDGED, stopped_at=now, next_rule_at=None)
    return Page.objects.filter(alert_group_id=alert_group_id, state=PageState.ACTIVE).update(
        state=state, stopped_at=now, next_rule_at=None
    )


def escalation_pages_stop(*, escalation_id: int) -> int:
    """The chain moved on (next level, or a repeat): the pages of its earlier level stop."""
    return Page.objects.filter(escalation_id=escalation_id, state=PageState.ACTIVE).update(
        state=PageState.STOPPED, stopped_at=timezone.now(), next_rule_at=None
    )


def page_ids_due(*, now: datetime) -> list[int]:
    return list(
        Page.objects.filter(state=PageState.ACTIVE, next_rule_at__lte=now)
        .order_by("next_rule_at").values_list("id", flat=True)
    )
