"""One level's people, paged: the step's half that is about people, not channels."""

from __future__ import annotations

from datetime import datetime

from alerting.models import AlertStatus
from escalation.models import Escalation, EscalationEvent
from escalation.paging.context import PagingContext
from escalation.paging.history import level_paged_record
from escalation.paging.pages import page_start
from escalation.paging.targets import Gap, level_people
from receivers.delivery import notification_bulk_create
from receivers.models import Receiver


def level_page(
    *, escalation: Escalation, step: dict, now: datetime, context: PagingContext,
    alerts: list[dict], receivers_reached: bool,
) -> tuple[int, list[str], list[EscalationEvent]]:
    """Page the level's people (or its fallback).

    Returns how many were paged, the fallback's receivers notified, and the
    events to save with the step's. Every gap is recorded; so is a level
    whose targets, fallback included, found nobody at all.
    """
    if not step.get("targets"):
        return 0, [], []
    found = level_people(
        level_snapshot=step, now=now, context=context, receivers_reached=receivers_reached
    )
    gaps = list(found.gaps)
    names: list[str] = []
    if found.receiver_ids and alerts:
        receivers = list(
            Receiver.objects.filter(id__in=found.receiver_ids, enabled=True)
            .only("id", "name", "kind")
        )
        ids = notification_bulk_create(
            alert_group=escalation.alert_group, receivers=receivers, status=AlertStatus.FIRING,
            alerts=alerts,
        )
        context.notifications_owed(ids)
        names = [receiver.name for receiver in receivers]
    pages = [
        page_start(escalation=escalation, level=step["level"], person=person, now=now,
                   context=context, alerts=alerts)
        for person in found.people
    ]
    if not pages and not names and not receivers_reached:
        gaps.append(Gap(
            "fallback_empty" if found.fallback_used else "nobody_paged",
            "the fallback found nobody either: nobody was paged" if found.fallback_used
            else "nobody was paged, and the level has no fallback",
            fallback=found.fallback_used,
        ))
    events = level_paged_record(
        escalation=escalation, level=step["level"], pages=pages, gaps=gaps,
        fallback_used=found.fallback_used, audits=context.audits,
    )
    return len(pages), names, events
