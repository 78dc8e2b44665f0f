"""Noise control as time passes: flapping summaries due, alerts that calmed, storms that ended.

No periodic sweep over every tenant: a tenant's tick is scheduled when it has
something to look at later (an alert began flapping or had a change held, a
storm began), and schedules itself again while something is left. Ticks
asked for the same moment collapse into one (`noise_tick_schedule`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerting.flap_marks import alert_flap_settings
from alerting.flapping import FlapState, flap_evaluate
from alerting.models import Alert, AlertGroup
from alerting.noise import rate_row_observe, storm_settings
from alerting.noise_messages import flap_summary_alert
from alerting.noise_models import TENANT_SCOPE, NoiseRate
from alerting.noise_records import noise_event_record, noise_gauges_set
from alerting.noise_tasks import noise_tick_schedule
from alerting.selectors import DispatchConfig, config_version, dispatch_config
from receivers.delivery import notification_bulk_create, notifications_enqueue
from receivers.models import Receiver

logger = logging.getLogger(__name__)

# Idle group rows expire (their baseline is worth little after a day).
GROUP_ROW_IDLE = timedelta(days=1)
BATCH = 500  # alerts looked at per tick; the rest at the next one


def _summary_send(alert: Alert, config: DispatchConfig, now: datetime) -> list[int]:
    receivers = [
        Receiver(id=rid, name=config.receivers[rid][0], kind=config.receivers[rid][1])
        for rid in alert.flap_receivers or () if rid in config.receivers
    ]
    summary = flap_summary_alert(alert=alert, count=alert.flap_held,
                                 since=alert.flap_held_since or now, now=now)
    group = AlertGroup.objects.only("id", "incident").get(id=alert.group_id)
    ids = notification_bulk_create(alert_group=group, receivers=receivers,
                                   status=alert.status, alerts=[summary])
    if ids:
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return ids


def _flapping_tick(config: DispatchConfig, now: datetime) -> tuple[int, datetime | None]:
    """Send the summaries due and calm what calmed; (summaries sent, next time to look)."""
    sent, next_at = 0, None
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(Q(flapping=True) | Q(flap_held__gt=0))
            .order_by("id")[:BATCH]
        )
        for alert in alerts:
            flap = alert_flap_settings(alert.labels or {}, config)
            window = timedelta(seconds=flap.window_seconds)
            state = flap_evaluate(FlapState(tuple(alert.flap_changes or ()), alert.flapping),
                                  now=now.timestamp(), settings=flap)
            if alert.flapping and not state.flapping:
                alert.flapping, alert.flapping_since = False, None
                noise_event_record(action="flapping_ended", alert=alert)
            alert.flap_changes = list(state.changes)
            held_since = alert.flap_held_since or now
            if alert.flap_held and (held_since + window <= now or not alert.flapping):
                sent += len(_summary_send(alert, config, now))
                alert.flap_held, alert.flap_held_since, alert.flap_receivers = 0, None, []
            alert.save(update_fields=["flapping", "flapping_since", "flap_changes",
                                      "flap_held", "flap_held_since", "flap_receivers"])
            candidates = []
            if alert.flap_held:
                candidates.append(held_since + window)
            if alert.flapping and alert.flap_changes:
                # the oldest change leaves the window: the mark may go
                oldest = datetime.fromtimestamp(alert.flap_changes[0], tz=now.tzinfo)
                candidates.append(max(oldest + window, now + timedelta(seconds=1)))
            for at in candidates:
                next_at = at if next_at is None else min(next_at, at)
        if len(alerts) == BATCH:
            next_at = now
    return sent, next_at


def _storms_tick(now: datetime) -> datetime | None:
    """Close the stale buckets of storming scopes: a storm ends even when alerts stop."""
    size = storm_settings().bucket_seconds
    next_at = None
    for scope in NoiseRate.objects.filter(storm_since__isnull=False).values_list(
        "scope", flat=True
    )[:BATCH]:
        state = rate_row_observe(scope=scope, count=0, now=now)
        if state is not None and state.storm_since is not None:
            end = datetime.fromtimestamp(state.bucket_start + size, tz=now.tzinfo)
            next_at = end if next_at is None else min(next_at, end)
    NoiseRate.objects.exclude(scope=TENANT_SCOPE).filter(
        storm_since__isnull=True, last_seen_at__lt=now - GROUP_ROW_IDLE
    ).delete()
    return next_at


def noise_control_tick_run(*, now: datetime | None = None) -> int:
    """One tick of the current tenant; the flapping summaries it sent."""
    now = now or timezone.now()
    config = dispatch_config(version=config_version(), now=now)
    sent, flap_next = _flapping_tick(config, now)
    storm_next = _storms_tick(now)
    noise_gauges_set(
        flapping=Alert.objects.filter(flapping=True).count(),
        storms=NoiseRate.objects.filter(storm_since__isnull=False).count(),
    )
    upcoming = [at for at in (flap_next, storm_next) if at is not None]
    if upcoming:
        noise_tick_schedule(at=max(min(upcoming), now + timedelta(seconds=1)))
    return sent
