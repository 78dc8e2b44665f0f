"""Noise control at ingest: flapping alerts held, alert storms folded (docs/noise-control.md).

Dispatch calls `noise_control_targets` once, inside the ingest transaction,
with what each receiver is about to be told. It

- marks each alert flapping (alerting.flap_marks); a flapping alert whose
  route holds flapping alerts is taken out of the receivers' messages:
  alerting.noise_tick sends one summary per window;
- during an alert storm of the tenant or of the alert's group
  (alerting.storms), folds every message into the receivers' digests, after
  one message per receiver saying so;
- counts the alerts, after commit, in a statement of its own (dispatch runs
  it after the delivery wake): the tenant's counter row is never locked for
  the length of an ingest.

Each step is bounded: a few statements per ingest, whatever the tenant sends.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver

from alerting.flap_marks import StoredFlap, flaps_mark_and_hold, stored_flaps
from alerting.infra.sql import jsonb_value, server_bound_cursor, sql_compact
from alerting.models import AlertGroup
from alerting.noise_messages import storm_alert
from alerting.noise_models import NOISE_GROUP_ROWS_MAX, TENANT_SCOPE, NoiseRate, NoiseSeason
from alerting.noise_records import noise_event_record
from alerting.noise_tasks import noise_tick_schedule
from alerting.selectors import DispatchConfig
from alerting.storms import Baseline, RateState, StormSettings, rate_observe, storm_usual_count
from receivers.delivery import alerts_fold_into_digests, notification_bulk_create
from receivers.delivery.outbox import notifications_enqueue
from receivers.models import Receiver

logger = logging.getLogger(__name__)

Targets = dict[int, list[dict[str, Any]]]


@functools.cache
def storm_settings() -> StormSettings:
    """The model's settings; HERALD_STORM_* settings override its defaults (tests, operators)."""
    defaults = StormSettings()
    return StormSettings(**{
        name: getattr(settings, f"HERALD_STORM_{name.upper()}", getattr(defaults, name))
        for name in defaults.__dataclass_fields__
    })


@receiver(setting_changed)
def _storm_settings_changed(*, setting: str, **_: Any) -> None:
    if setting.startswith("HERALD_STORM_"):  # tests' override_settings
        storm_settings.cache_clear()


def storm_digest_seconds() -> float:
    """How long a storm's digest collects alerts before it goes: one bucket, by default."""
    return float(getattr(settings, "HERALD_STORM_DIGEST_SECONDS", storm_settings().bucket_seconds))


@dataclass(frozen=True)
class StormInProgress:
    scope: str
    row_id: int
    told: frozenset[int]

    @classmethod
    def from_json(cls, value: Any) -> StormInProgress | None:
        """From STORM_IN_PROGRESS's answer (None: no storm)."""
        if value is None:
            return None
        scope, row_id, told = jsonb_value(value)
        return cls(scope, row_id, frozenset(told or ()))


# The storm, if any, of the tenant or of the group whose id `{group_id}` is
# (SQL): "group:…" sorts before "tenant", so the narrower one names the storm.
STORM_IN_PROGRESS = f"""(
SELECT jsonb_build_array(n.scope, n.id, n.storm_told) FROM alerting_noiserate n
WHERE n.scope IN ('{TENANT_SCOPE}', 'group:' || {{group_id}}) AND n.storm_since IS NOT NULL
ORDER BY n.scope LIMIT 1)"""  # noqa: S608 - a constant


@dataclass(frozen=True)
class NoiseFacts:
    """What noise control reads about an ingest's alerts, read by its upsert."""

    flaps: dict[str, StoredFlap]
    storm: StormInProgress | None


# --- storms -------------------------------------------------------------------


def _scopes(alert_group: AlertGroup) -> list[str]:
    return [TENANT_SCOPE, f"group:{alert_group.id}"]


def _storm_active(alert_group: AlertGroup) -> StormInProgress | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + STORM_IN_PROGRESS.format(group_id="%s::bigint"),
                       [alert_group.id])
        return StormInProgress.from_json(cursor.fetchone()[0])


def _storm_tell(*, row: NoiseRate, receiver_ids: set[int], alert_group: AlertGroup,
                now: datetime) -> list[int]:
    """One message per receiver not yet told of the row's storm (the row is locked)."""
    told = set(row.storm_told or ())
    new = sorted(receiver_ids - told)
    if not new:
        return []
    receivers = list(Receiver.objects.filter(id__in=new, enabled=True).only("id", "name", "kind"))
    season = None
    if row.scope == TENANT_SCOPE:
        from alerting.storms import hour_of_week

        season_row = NoiseSeason.objects.filter(
            hour_of_week=hour_of_week(row.bucket_start)).first()
        if season_row is not None:
            season = Baseline(season_row.mean, season_row.var, season_row.samples)
    usual = storm_usual_count(_state_of(row), season, storm_settings())
    alert = storm_alert(row=row, alert_group=alert_group, usual=usual,
                        bucket_seconds=storm_settings().bucket_seconds, now=now)
    ids = notification_bulk_create(
        alert_group=alert_group, receivers=receivers, status="firing", alerts=[alert]
    )
    row.storm_told = sorted(told | set(new))
    row.save(update_fields=["storm_told"])
    if ids:
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return ids


def _storm_fold(storm: StormInProgress, *, alert_group: AlertGroup, targets: Targets,
                now: datetime) -> None:
    receiver_ids = {rid for rid, alerts in targets.items() if alerts}
    if receiver_ids - storm.told:
        row = NoiseRate.objects.select_for_update().filter(id=storm.row_id).first()
        if row is not None and row.storm_since is not None:
            _storm_tell(row=row, receiver_ids=receiver_ids, alert_group=alert_group, now=now)
    alerts_fold_into_digests(
        alert_group=alert_group, targets=targets, wait=storm_digest_seconds(), now=now
    )


def _state_of(row: NoiseRate) -> RateState:
    return RateState(
        bucket_start=row.bucket_start, count=row.bucket_count,
        recent=Baseline(row.recent_mean, row.recent_var, row.samples),
        storm_since=row.storm_since.timestamp() if row.storm_since else None,
        storm_alerts=row.storm_alerts, trigger_at=row.trigger_at, hour_peak=row.hour_peak,
    )


def _row_store(row: NoiseRate, state: RateState) -> None:
    row.bucket_start = state.bucket_start
    row.bucket_count = state.count
    row.recent_mean, row.recent_var = state.recent.mean, state.recent.var
    row.samples = state.recent.samples
    row.storm_since = (datetime.fromtimestamp(state.storm_since, tz=UTC)
                       if state.storm_since is not None else None)
    row.storm_alerts = state.storm_alerts
    row.trigger_at = state.trigger_at
    row.hour_peak = state.hour_peak


# A new group's row, written as its first count leaves it, in one statement
# (not a locked read, the cap's count, an insert, a second read and an
# update): while the tenant is under its cap, and unless another ingest wrote
# the row first (then the locked way below counts on it).
_GROUP_ROW_INSERT = sql_compact("""
INSERT INTO alerting_noiserate
    (scope, alert_group_id, bucket_start, bucket_count, trigger_at, hour_peak, recent_mean,
     recent_var, samples, storm_since, storm_alerts, storm_told, last_seen_at)
SELECT %(scope)s, %(group)s, %(bucket_start)s, %(count)s, %(trigger_at)s, %(hour_peak)s,
       %(mean)s, %(var)s, %(samples)s, NULL, 0, '[]'::jsonb, %(now)s
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
WHERE (SELECT count(*) FROM alerting_noiserate WHERE scope <> 'tenant') < %(cap)s
ON CONFLICT (scope) DO NOTHING
RETURNING id
""")  # a count of its own, after the ingest's commit: it need not wait for the disk


def _group_row_insert(*, scope: str, count: int, now: datetime,
                      alert_group: AlertGroup) -> RateState | None:
    """The new group's row with its first count; None if it could not be written so."""
    fresh = NoiseRate(scope=scope, alert_group_id=alert_group.id, last_seen_at=now)
    observed = rate_observe(_state_of(fresh), count=count, now=now.timestamp(),
                            settings=storm_settings())
    state = observed.state
    if observed.started or observed.ended or state.storm_since is not None:
        return None
    with server_bound_cursor() as cursor:
        cursor.execute(_GROUP_ROW_INSERT, {
            "scope": scope, "group": alert_group.id, "bucket_start": state.bucket_start,
            "count": state.count, "trigger_at": state.trigger_at, "hour_peak": state.hour_peak,
            "mean": state.recent.mean, "var": state.recent.var, "samples": state.recent.samples,
            "now": now, "cap": NOISE_GROUP_ROWS_MAX,
        })
        return state if cursor.fetchone() is not None else None


def rate_row_observe(*, scope: str, count: int, now: datetime,
                     alert_group: AlertGroup | None = None,
                     receiver_ids: set[int] = frozenset()) -> RateState | None:
    """Count `count` alerts in `scope` under its row's lock; start or end its storm.

    A group gets a row only while the tenant has fewer than NOISE_GROUP_ROWS_MAX
    (its storms are then judged by the tenant's rate alone).
    """
    if scope != TENANT_SCOPE and alert_group is not None and count and not (
        connection.in_atomic_block
    ):
        written = _group_row_insert(scope=scope, count=count, now=now, alert_group=alert_group)
        if written is not None:
            return written
    with transaction.atomic():
        row = NoiseRate.objects.select_for_update().filter(scope=scope).first()
        if row is None:
            if scope != TENANT_SCOPE and (
                NoiseRate.objects.exclude(scope=TENANT_SCOPE).count() >= NOISE_GROUP_ROWS_MAX
            ):
                _group_rows_full_until[connection.schema_name] = time.monotonic() + 10.0
                return None
            NoiseRate.objects.bulk_create(
                [NoiseRate(scope=scope, alert_group_id=alert_group.id if scope != TENANT_SCOPE
                           and alert_group else None, last_seen_at=now)],
                ignore_conflicts=True,
            )
            row = NoiseRate.objects.select_for_update().get(scope=scope)
        seasons = None
        if scope == TENANT_SCOPE:
            seasons = {s.hour_of_week: Baseline(s.mean, s.var, s.samples)
                       for s in NoiseSeason.objects.all()}
        observed = rate_observe(_state_of(row), count=count, now=now.timestamp(),
                                seasons=seasons, settings=storm_settings())
        _row_store(row, observed.state)
        row.last_seen_at = now if count else row.last_seen_at
        if observed.ended:
            row.storm_told = []
            noise_event_record(action="storm_ended", scope=scope)
        row.save()
        for hour, baseline in observed.seasons.items():
            NoiseSeason.objects.update_or_create(hour_of_week=hour, defaults={
                "mean": baseline.mean, "var": baseline.var, "samples": baseline.samples})
        if observed.started:
            size = storm_settings().bucket_seconds
            noise_tick_schedule(at=datetime.fromtimestamp(
                observed.state.bucket_start + 2 * size, tz=UTC))
            noise_event_record(action="storm_started", scope=scope,
                               detail={"alerts": observed.state.count,
                                       "trigger_at": observed.state.trigger_at})
            if alert_group is not None and receiver_ids:
                _storm_tell(row=row, receiver_ids=set(receiver_ids), alert_group=alert_group,
                            now=now)
        return observed.state


# Per process: tenants whose group rows were at the cap lately. A new group
# of such a tenant skips the row's lock, count and insert for 10 s (its storms
# are the tenant's then anyway), instead of four statements per new group.
_group_rows_full_until: dict[str, float] = {}


def _group_rows_full() -> bool:
    return _group_rows_full_until.get(connection.schema_name, 0.0) > time.monotonic()


def noise_group_rows_cache_clear() -> None:
    """Forget which tenants were at the cap (tests; rows deleted by hand)."""
    _group_rows_full_until.clear()


# Counting on the fast path: one statement for both scopes while their bucket
# is current. A row that is missing, whose bucket has ended, or whose count
# just passed its trigger goes through rate_row_observe.
_COUNT = sql_compact("""
UPDATE alerting_noiserate
SET bucket_count = bucket_count + %(count)s, last_seen_at = %(now)s,
    storm_alerts = storm_alerts + CASE WHEN storm_since IS NULL THEN 0 ELSE %(count)s END
-- a count of its own, after the ingest's commit: it need not wait for the disk
-- (a crash loses a few counts of a heuristic, never an alert)
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
WHERE scope = ANY(%(scopes)s) AND bucket_start + %(bucket)s > %(epoch)s
      AND bucket_start <= %(epoch)s
RETURNING scope, bucket_count, trigger_at, storm_since IS NOT NULL
""")  # bound by the server, so prepared: planned once per connection, not per ingest


def alerts_count(*, alert_group: AlertGroup, count: int, receiver_ids: set[int],
                 now: datetime) -> None:
    """After commit: count the ingest's alerts for the tenant and the group."""
    scopes = _scopes(alert_group)
    try:
        with server_bound_cursor() as cursor:
            cursor.execute(_COUNT, {"count": count, "now": now, "scopes": scopes,
                                    "bucket": storm_settings().bucket_seconds,
                                    "epoch": now.timestamp()})
            counted = {scope: (total, trigger, storming)
                       for scope, total, trigger, storming in cursor.fetchall()}
        for scope in scopes:
            if scope not in counted:
                if scope != TENANT_SCOPE and _group_rows_full():
                    continue  # judged by the tenant's rate, as at the cap
                rate_row_observe(scope=scope, count=count, now=now, alert_group=alert_group,
                                 receiver_ids=receiver_ids)
            elif not counted[scope][2] and counted[scope][0] > counted[scope][1]:
                rate_row_observe(scope=scope, count=0, now=now, alert_group=alert_group,
                                 receiver_ids=receiver_ids)
    except DatabaseError as exc:
        # Committed alerts and their notifications stand; only the count is lost.
        logger.warning("alert rate not counted: %s", type(exc).__name__)


# --- the one entry point from dispatch --------------------------------------------


@dataclass(frozen=True)
class NoiseDecision:
    """What each receiver is told now, and the count for storm detection.

    `count_after_commit` (if any) is for the caller to run once the ingest has
    committed, after the delivery wake: the workers start first.
    """

    targets: Targets
    count_after_commit: Callable[[], None] | None = None


def noise_control_targets(*, alert_group: AlertGroup, targets: Targets,
                          config: DispatchConfig, now: datetime,
                          facts: NoiseFacts | None = None) -> NoiseDecision:
    """What each receiver is told now, once flapping holds and storm folds are taken out.

    `facts` are what the ingest's upsert read; without them (a silence that
    ended) they are read here.
    """
    alerts = {a["fingerprint"]: a for routed in targets.values() for a in routed}
    if not alerts:
        return NoiseDecision(targets)
    flaps = facts.flaps if facts is not None else stored_flaps(list(alerts))
    held = flaps_mark_and_hold(alerts, targets, config, now, flaps)
    if held:
        targets = {rid: [a for a in routed if a["fingerprint"] not in held]
                   for rid, routed in targets.items()}
    receiver_ids = {rid for rid, routed in targets.items() if routed}
    firing = sum(1 for a in alerts.values() if a.get("status") == "firing")
    count = partial(alerts_count, alert_group=alert_group, count=firing,
                    receiver_ids=receiver_ids, now=now) if firing else None
    if not receiver_ids:
        return NoiseDecision(targets, count)
    storm = facts.storm if facts is not None else _storm_active(alert_group)
    if storm is None:
        return NoiseDecision(targets, count)
    _storm_fold(storm, alert_group=alert_group, targets=targets, now=now)
    return NoiseDecision({}, count)
