"""Incidents with known times, the way Herald records them (groups, pages, escalations)."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerting.models import AlertGroup
from escalation.models import Escalation, EscalationPolicy, Page, Person
from tests.factories import AlertGroupFactory, NotificationFactory


def incident(
    *, at: datetime, severity: str = "critical", alertname: str = "DiskFull",
    acked_after: float | None = None, resolved_after: float | None = None, by: str = "",
    group_labels: dict | None = None,
) -> AlertGroup:
    """A group first seen `at`, acknowledged and resolved so many seconds later (or not)."""
    return AlertGroupFactory(
        first_seen_at=at, last_seen_at=at,
        status="firing" if resolved_after is None else "resolved",
        group_labels=group_labels or {"alertname": alertname},
        common_labels={"alertname": alertname, "severity": severity},
        acknowledged_at=None if acked_after is None else at + timedelta(seconds=acked_after),
        acknowledged_by=by,
        resolved_at=None if resolved_after is None else at + timedelta(seconds=resolved_after),
    )


def escalated(*, group: AlertGroup, policy: EscalationPolicy) -> Escalation:
    return Escalation.objects.create(
        alert_group=group, policy=policy, policy_name=policy.name, snapshot={},
        next_step_at=group.first_seen_at, state="acknowledged",
    )


def acknowledged_page(*, group: AlertGroup, person: Person, policy: EscalationPolicy) -> Page:
    """The acker's own page of the group's incident, as escalation_stop marks it."""
    return Page.objects.create(
        escalation=escalated(group=group, policy=policy), alert_group=group,
        incident=group.incident, level=0, person=person, person_name=person.display_name,
        target="on call in Primary", state="acknowledged", stopped_at=group.acknowledged_at,
    )


def notified(*, group: AlertGroup, receiver, at: datetime, status: str = "firing", incident=1):
    return NotificationFactory(
        alert_group=group, receiver=receiver, created_at=at, status=status, incident=incident,
        state="delivered",
    )
