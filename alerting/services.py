"""Writes on alert groups beyond ingest (acknowledge, resolve by hand), on silences and routes."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from alerting.audit.services import AuditActor, audit_action
from alerting.dispatch import alerts_dispatch
from alerting.due import silence_due_note
from alerting.matchers import MatcherError, parse_matchers
from alerting.models import Alert, AlertGroup, AlertStatus, Route, Silence, SilenceKind
from alerting.routing import route_placement_problem
from alerting.selectors import (
    alert_group_firing_snapshot,
    alerts_suppressed,
    notified_alert_from_row,
    silence_rules,
)
from alerting.silencing import silence_for
from escalation.models import EscalationState
from escalation.paging.acks import person_id_of_username
from escalation.services import escalation_stop
from receivers.delivery import notification_bulk_create, notifications_enqueue
from receivers.delivery.updates import ACKNOWLEDGED, group_update_notify
from receivers.selectors import receivers_notified_of


class AlertGroupActionError(Exception):
    """The action does not apply to the group in its current state."""


def alert_group_acknowledge(
    *, alert_group_id: int, by: str, audit: AuditActor | None = None,
    person_id: int | None = None,
) -> AlertGroup:
    """Record that someone is on it. Acknowledging twice keeps the first.

    With `audit`, the audit trail names who did it, in the same transaction.
    Every page of the group stops; the acker's own (`person_id`, else the
    profile of the member named `by`) is marked acknowledged.
    """
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError(gettext("The alert group is resolved already."))
        first = group.acknowledged_at is None
        if first:
            group.acknowledged_at = timezone.now()
            group.acknowledged_by = by
            group.save(update_fields=["acknowledged_at", "acknowledged_by"])
            escalation_stop(
                alert_group_id=group.id, state=EscalationState.ACKNOWLEDGED,
                acknowledged_by_person_id=person_id
                if person_id is not None else person_id_of_username(username=by),
            )
            _acknowledgement_pass_on(group)
        if audit is not None:
            audit_action(
                by=audit, action="acknowledge", obj=group,
                after={"acknowledged_by": group.acknowledged_by, "first": first},
            )
    return group


def _acknowledgement_pass_on(group: AlertGroup) -> None:
    """Tell the channels that keep their own incident (PagerDuty, Opsgenie) or edit
    their message in place (receivers.delivery.updates)."""
    group_update_notify(
        group=group, update=ACKNOWLEDGED,
        alerts=alert_group_firing_snapshot(alert_group_id=group.id),
    )


def alert_group_resolve(
    *, alert_group_id: int, by: str, audit: AuditActor | None = None
) -> AlertGroup:
    """Resolve a group by hand and tell the receivers that heard of it, and only those.

    If Alertmanager later reports the alerts firing again, that is a new state
    and notifies as such. With `audit`, the trail names who, in the same
    transaction.
    """
    now = timezone.now()
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError(gettext("The alert group is resolved already."))
        firing = list(group.alerts.filter(status=AlertStatus.FIRING))
        for alert in firing:
            alert.previous_status, alert.previous_starts_at = alert.status, alert.starts_at
            alert.status, alert.ends_at, alert.last_seen_at = AlertStatus.RESOLVED, now, now
        group.alerts.bulk_update(
            firing, ["status", "ends_at", "last_seen_at", "previous_status", "previous_starts_at"]
        )
        group.status, group.resolved_at, group.resolved_by = AlertStatus.RESOLVED, now, by
        group.resolved_count += group.firing_count
        group.firing_count = 0
        group.save(
            update_fields=["status", "resolved_at", "resolved_by", "firing_count", "resolved_count"]
        )
        escalation_stop(alert_group_id=group.id, state=EscalationState.RESOLVED)
        notification_ids = notification_bulk_create(
            alert_group=group,
            receivers=receivers_notified_of(alert_group_id=group.id),
            status=AlertStatus.RESOLVED,
            alerts=[notified_alert_from_row(alert) for alert in firing if not alert.suppressed],
        )
        if notification_ids:
            transaction.on_commit(partial(notifications_enqueue, notification_ids=notification_ids))
        if audit is not None:
            audit_action(
                by=audit, action="resolve", obj=group,
                after={"alerts_resolved": len(firing), "notifications": len(notification_ids)},
            )
    return group


def silences_ended_notify() -> int:
    """Notify the firing alerts whose silence has ended; returns how many.

    Alerts still caught by an active silence stay held back.
    """
    now = timezone.now()
    rules = silence_rules(now=now)
    released = 0
    for alert in alerts_suppressed():
        if silence_for(alert.labels, rules, now) is not None:
            continue
        with transaction.atomic():
            locked = (
                Alert.objects.select_for_update()
                .filter(id=alert.id, suppressed=True, status=AlertStatus.FIRING)
                .first()
            )
            if locked is None:  # resolved or released meanwhile
                continue
            alerts_dispatch(
                alert_group=alert.group,
                firing=[notified_alert_from_row(locked)],
                resolved=[],
                now=now,
            )
            released += 1
    return released


class SilenceError(ValueError):
    """The silence is not well formed; the message says why."""


def silence_create(
    *,
    matchers: str,
    created_by: str,
    starts_at=None,
    ends_at=None,
    weekdays: list[int] | None = None,
    window_start=None,
    window_end=None,
    time_zone: str = "UTC",
    comment: str = "",
) -> Silence:
    """A one-off silence (starts_at, ends_at) or a weekly window (weekdays and times)."""
    try:
        if not parse_matchers(matchers):
            raise SilenceError(gettext("At least one matcher is needed."))
    except MatcherError as exc:
        raise SilenceError(str(exc)) from None
    if weekdays:
        if window_start is None or window_end is None:
            raise SilenceError(gettext("A weekly silence needs window_start and window_end."))
        if any(day not in range(7) for day in weekdays):
            raise SilenceError(gettext("Weekdays go from 0 (Monday) to 6 (Sunday)."))
        try:
            ZoneInfo(time_zone)
        except (LookupError, ValueError):
            raise SilenceError(
                gettext("Unknown time zone %(zone)r.") % {"zone": time_zone}
            ) from None
        kind = SilenceKind.WEEKLY
    else:
        if starts_at is None or ends_at is None or ends_at <= starts_at:
            raise SilenceError(gettext("A one-off silence needs starts_at before ends_at."))
        kind = SilenceKind.ONCE
    silence = Silence.objects.create(
        matchers=matchers, kind=kind, starts_at=starts_at, ends_at=ends_at,
        weekdays=sorted(set(weekdays or [])), window_start=window_start, window_end=window_end,
        time_zone=time_zone, comment=comment, created_by=created_by,
    )
    silence_due_note(silence=silence)  # the sweep releases what it holds when it ends
    return silence


class RouteTreeError(ValueError):
    """The route cannot go where it was asked to; the message says why."""


def route_placement_check(*, route_id: int | None, parent_id: int | None, is_default: bool) -> None:
    """Refuse a parent that would loop the tree, nest it too deep, or nest a default route.

    Every write of a route's parent or default flag asks this first (the
    admin's form; a configuration file is a tree by its shape). The database
    refuses cycles too, for any other path.
    """
    routes = {
        row[0]: (row[1], row[2])
        for row in Route.objects.values_list("id", "parent_id", "is_default")
    }
    problem = route_placement_problem(
        route_id=route_id, parent_id=parent_id, is_default=is_default, routes=routes
    )
    if problem:
        raise RouteTreeError(problem)
