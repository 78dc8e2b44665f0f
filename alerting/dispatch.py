"""Who is told about alerts whose state changed: silences, routes, escalations.

Runs inside the ingest transaction (and for silences that end), so the
notifications it writes are committed with the alerts: the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import transaction

from alerting.models import Alert, AlertGroup, AlertStatus
from alerting.noise import NoiseFacts, noise_control_targets
from alerting.routing import routes_for
from alerting.selectors import DispatchConfig, config_version, dispatch_config
from alerting.silencing import silence_for
from escalation.models import Team
from escalation.services import escalation_start
from receivers.delivery import notification_bulk_create, notifications_wake
from receivers.models import Receiver
from receivers.selectors import receivers_notified_of


def _mark_silenced(silenced: dict[str, int]) -> None:
    by_silence: dict[int, list[str]] = defaultdict(list)
    for fingerprint, silence_id in silenced.items():
        by_silence[silence_id].append(fingerprint)
    for silence_id, fingerprints in by_silence.items():
        Alert.objects.filter(fingerprint__in=fingerprints).update(
            suppressed=True, silenced_by_id=silence_id
        )


def _firing_targets(
    firing: list[dict[str, Any]], config: DispatchConfig
) -> tuple[dict[int, list[dict[str, Any]]], set[int]]:
    """Receiver id → alerts routed to it, and the escalation policies matched.

    A route that names a team and no policy starts the team's policy.
    """
    rules = config.routes
    targets: dict[int, list[dict[str, Any]]] = defaultdict(list)
    policies: set[int] = set()
    teams: set[int] = set()
    if not rules:  # no routes configured: every enabled receiver hears everything
        for receiver_id in config.receivers:
            targets[receiver_id].extend(firing)
        return targets, policies
    for alert in firing:
        for route in routes_for(alert["labels"], rules):
            for receiver_id in route.receiver_ids:
                if alert not in targets[receiver_id]:
                    targets[receiver_id].append(alert)
            if route.escalation_policy_id:
                policies.add(route.escalation_policy_id)
            elif route.team_id:
                teams.add(route.team_id)
    if teams:
        # Read here, not cached with the routes: a team's policy is not part
        # of the configuration version (its edits bump nothing).
        policies.update(
            Team.objects.filter(id__in=teams, escalation_policy__isnull=False)
            .values_list("escalation_policy_id", flat=True)
        )
    return targets, policies


def alerts_dispatch(
    *,
    alert_group: AlertGroup,
    firing: list[dict[str, Any]],
    resolved: list[dict[str, Any]],
    now: datetime,
    version: int | None = None,
    held_back: set[str] | None = None,
    noise: NoiseFacts | None = None,
) -> list[int]:
    """Write the notifications owed for changed alerts (Alertmanager's shape).

    Firing alerts caught by an active silence are marked suppressed instead.
    Resolved alerts go to the receivers that were told about the group, and
    only those. Matched escalation policies start for the group.

    `version` is the configuration version read in this transaction (read
    here if not given). `held_back` names the alerts stored as suppressed, if
    the caller knows them: only those need releasing. `noise` is what noise
    control reads, if the caller read it (the ingest's upsert does).
    """
    config = dispatch_config(version=config_version() if version is None else version, now=now)
    silenced = {
        alert["fingerprint"]: silence_id
        for alert in firing
        if (silence_id := silence_for(alert["labels"], config.silences, now)) is not None
    }
    _mark_silenced(silenced)
    routed = [alert for alert in firing if alert["fingerprint"] not in silenced]
    released = [
        alert["fingerprint"]
        for alert in routed
        if held_back is None or alert["fingerprint"] in held_back
    ]
    if released:
        Alert.objects.filter(fingerprint__in=released, suppressed=True).update(suppressed=False)

    targets, policies = _firing_targets(routed, config) if routed else ({}, set())
    if resolved:
        for receiver in receivers_notified_of(alert_group_id=alert_group.id):
            targets.setdefault(receiver.id, [])
            targets[receiver.id] = targets[receiver.id] + resolved

    # --- noise control (H4, alerting.noise): flapping holds and storm folds ---
    decision = noise_control_targets(
        alert_group=alert_group, targets=targets, config=config, now=now, facts=noise
    )
    targets = decision.targets
    # --- end noise control ---
    notification_ids = _notifications_create(alert_group, targets, config)
    for policy_id in sorted(policies):
        escalation_start(alert_group=alert_group, policy_id=policy_id, now=now)
    notifications_wake(notification_ids=notification_ids)
    if decision.count_after_commit is not None:  # after the wake: the workers start first
        transaction.on_commit(decision.count_after_commit)
    return notification_ids


def _notifications_create(
    alert_group: AlertGroup, targets: dict[int, list[dict[str, Any]]], config: DispatchConfig
) -> list[int]:
    """One notification per enabled receiver; receivers owed the same alerts share one insert."""
    receivers = {
        receiver_id: Receiver(id=receiver_id, name=name, kind=kind)
        for receiver_id, (name, kind) in config.receivers.items()
        if receiver_id in targets
    }
    same_alerts: dict[tuple[str, ...], list[Receiver]] = defaultdict(list)
    for receiver_id, alerts in targets.items():
        if alerts and receiver_id in receivers:
            key = tuple(f"{a['fingerprint']}:{a['status']}" for a in alerts)
            same_alerts[key].append(receivers[receiver_id])
    ids: list[int] = []
    for receivers_group in same_alerts.values():
        alerts = targets[receivers_group[0].id]
        status = (
            AlertStatus.FIRING
            if any(a["status"] == AlertStatus.FIRING for a in alerts)
            else AlertStatus.RESOLVED
        )
        ids += notification_bulk_create(
            alert_group=alert_group, receivers=receivers_group, status=status, alerts=alerts
        )
    return ids
