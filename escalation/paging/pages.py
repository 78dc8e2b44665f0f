"""A person's page: their notification rules, run in turn until someone acknowledges.

A page starts with its level's step and runs the rules due at once in that
transaction; each later rule is due `delay_minutes` after the page started.
The due time lives in the database (Page.next_rule_at): the periodic tick
runs every due rule even after a restart, and an ETA task only makes it
prompt. A rule run locks the page's row and checks that it is still the rule
due (a stale or duplicate task exits), as the chain's steps do.

Each rule becomes a notification for the receiver that carries its
kind's pages to that address (receivers.carriers: by country prefix),
addressed to the person's verified contact method (receivers.delivery
sends it to that address, never grouped, folded or failed over). A rule
that cannot be sent is recorded on the page and as a gap. The first
acknowledgement by anyone stops every page (the acker's becomes
ACKNOWLEDGED); a resolve stops them; so does the chain moving on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerting.models import AlertGroup, AlertStatus
from alerting.selectors import alert_groups_firing_snapshot
from escalation.models import ContactMethod, Escalation, Page, PageState
from escalation.paging.context import PagingContext
from escalation.paging.history import rule_failed_record
from escalation.paging.targets import PersonToPage
from receivers.models import Notification
from tenants.due_work import due_work_note
from tenants.models_due import DueKind

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
        # The tick's index first: it runs the rule if the ETA task is lost.
        due_work_note(kind=DueKind.ESCALATION, due_at=eta)
        try:
            page_rule.apply_async(token, eta=eta)
        except Exception as exc:  # broker down (kombu raises several types): the tick runs it
            logger.warning("page rule left for the tick: %s", type(exc).__name__)

    transaction.on_commit(send)


def _no_carrier(rule: dict, context: PagingContext, address: str | None = None) -> bool:
    """No enabled receiver carries the rule's kind to its address: the rule is marked
    failed, saying so."""
    if context.carrier_for(contact_kind=rule["kind"], address=address or rule["address"]):
        return False
    rule["state"] = "failed"
    rule["error"] = f"no enabled receiver carries {rule['kind']} pages to this address"
    return True


def _no_carrier_record(page: Page, rule: dict) -> None:
    rule_failed_record(
        page=page, reason="no_carrier", detail=f"{rule['kind']} rule: {rule['error']}"
    )


def _notification(page: Page, rule: dict, address: str, alerts: list[dict],
                  context: PagingContext) -> Notification:
    carrier = context.carrier_for(contact_kind=rule["kind"], address=address)
    rule["state"] = "sent"
    return Notification(
        receiver=carrier, receiver_name=carrier.name, channel=carrier.kind,
        alert_group_id=page.alert_group_id, status=AlertStatus.FIRING, alerts=alerts,
        page=page, contact_method_id=rule["contact_method_id"], recipient_address=address,
        contact_kind=rule["kind"], incident=page.incident,
    )


def _advance(page: Page, now: datetime) -> None:
    page.next_rule_at = _due_at(page, page.next_rule)
    if page.next_rule_at is None:
        page.state, page.stopped_at = PageState.FINISHED, now


def page_start(
    *, escalation: Escalation, level: int, person: PersonToPage, now: datetime,
    context: PagingContext, alerts: list[dict],
) -> Page:
    """Page one person for one level: the page recorded, its rules due at once sent.

    The page is written once, as it stands after its first rules (one
    insert for the page, one for its notifications).
    """
    group = escalation.alert_group
    page = Page(
        escalation=escalation, alert_group_id=group.id, incident=group.incident, level=level,
        person_id=person.person_id, person_name=person.display_name[:100],
        target=person.target[:200], schedule_id=person.schedule_id,
        schedule_version=person.schedule_version,
        rules=[{**rule, "state": "due"} for rule in person.rules],
    )
    # Due times count from the step's instant (the insert stamps started_at a
    # moment later; a rule run takes the rule next_rule_at named, whatever that is).
    page.started_at = now
    at_once = []
    while page.next_rule < len(page.rules) and not page.rules[page.next_rule]["delay_minutes"]:
        rule = page.rules[page.next_rule]
        failed = _no_carrier(rule, context)
        rule["state"] = "failed" if failed else "sent"  # saved with the page, sent below
        at_once.append((rule, failed))
        page.next_rule += 1
    _advance(page, now)
    page.save()
    notifications = []
    for rule, failed in at_once:
        if failed:
            _no_carrier_record(page, rule)
        else:
            notifications.append(_notification(page, rule, rule["address"], alerts, context))
    context.notifications_owed(
        [n.id for n in Notification.objects.bulk_create(notifications)]
    )
    _schedule(page)
    return page


def _stopped(page: Page) -> bool:
    """Its incident was acknowledged or resolved (or is over): the page has nothing to do."""
    group = page.alert_group
    return (
        group.acknowledged_at is not None or group.status == AlertStatus.RESOLVED
        or group.incident != page.incident
    )


def _pages_run(pages: list[Page], *, now: datetime, context: PagingContext) -> int:
    """Run the due rules of these locked, due pages: a few statements however many pages.

    Each later rule checks its method again (still verified? its address
    now); a rule that cannot be sent is recorded on the page and as a gap.
    """
    running = []
    for page in pages:
        if _stopped(page):
            page.state, page.stopped_at, page.next_rule_at = PageState.STOPPED, now, None
        else:
            running.append(page)
    due: dict[int, list[dict]] = {}
    for page in running:
        due[page.id] = []
        while True:  # the rule due (next_rule_at said so), then any others due by now
            due[page.id].append(page.rules[page.next_rule])
            page.next_rule += 1
            at = _due_at(page, page.next_rule)
            if at is None or at > now:
                break
        _advance(page, now)
    method_ids = {rule["contact_method_id"] for rules in due.values() for rule in rules}
    verified = {
        method_id: (person_id, address)
        for method_id, person_id, address in ContactMethod.objects.filter(
            id__in=method_ids, verified_at__isnull=False
        ).values_list("id", "person_id", "address")
    } if method_ids else {}
    alerts = alert_groups_firing_snapshot(alert_group_ids={p.alert_group_id for p in running})
    notifications = []
    for page in running:
        for rule in due[page.id]:
            person_id, address = verified.get(rule["contact_method_id"], (None, None))
            if person_id != page.person_id:
                rule["state"] = "failed"
                rule["error"] = "the contact method is gone or no longer verified"
                rule_failed_record(page=page, reason="no_verified_contact",
                                   detail=f"{rule['kind']} rule: {rule['error']}")
            elif _no_carrier(rule, context, address):
                _no_carrier_record(page, rule)
            else:
                notifications.append(
                    _notification(page, rule, address, alerts[page.alert_group_id], context)
                )
    if pages:
        Page.objects.bulk_update(
            pages, ["rules", "next_rule", "next_rule_at", "state", "stopped_at"]
        )
    context.notifications_owed([n.id for n in Notification.objects.bulk_create(notifications)])
    for page in running:
        _schedule(page)
    return len(running)


def _locked_due(ids: list[int], now: datetime, *, skip_locked: bool):
    return (
        Page.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("escalation", "alert_group")
        .filter(id__in=ids, state=PageState.ACTIVE, next_rule_at__lte=now)
        .order_by("id")
    )


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
        page = _locked_due([page_id], now, skip_locked=False).first()
        if page is None or (rule is not None and page.next_rule != rule):
            return False
        return _pages_run([page], now=now, context=context) == 1


def page_rules_run(*, page_ids: list[int], context: PagingContext | None = None) -> int:
    """The tick's due page rules, in one transaction; how many pages ran.

    A page another worker holds (its ETA task running it) is skipped; what
    is no longer due (run meanwhile) is left alone.
    """
    if not page_ids:
        return 0
    now = timezone.now()
    context = context or PagingContext()
    with transaction.atomic():
        return _pages_run(
            list(_locked_due(page_ids, now, skip_locked=True)), now=now, context=context
        )


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


def page_contact_failed(*, page_id: int) -> bool:
    """A rule's contact did not reach the person (an undelivered SMS, an unanswered call):
    their next rule is due now, not at its delay. True if one was brought forward.

    Only a running page with a rule left moves; the ETA task (and the tick)
    run it as any due rule, so an acknowledgement meanwhile still stops it.
    """
    now = timezone.now()
    with transaction.atomic():
        page = (
            Page.objects.select_for_update(of=("self",))
            .filter(id=page_id, state=PageState.ACTIVE).first()
        )
        if page is None or page.next_rule >= len(page.rules):
            return False
        if page.next_rule_at is not None and page.next_rule_at <= now:
            return False  # due already: the tick or its task runs it
        page.next_rule_at = now
        page.save(update_fields=["next_rule_at"])
        _schedule(page)
    return True
