"""Flapping at ingest: each alert's mark, and the changes its route holds (docs/noise-control.md).

The ingest's upsert counts every state change in the alert's row (at most
alerting.flapping.KEPT_CHANGES) and returns the row's bookkeeping
(FLAP_COLUMNS), so marking costs no statement of its own unless a mark moves
or a change is held. The pure rules are alerting.flapping's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from django.db import connection

from alerting.flapping import FlapSettings, FlapState, flap_evaluate
from alerting.infra.sql import jsonb_value
from alerting.models import Alert, Route
from alerting.noise_records import noise_event_record
from alerting.noise_tasks import noise_tick_schedule
from alerting.routing import routes_for
from alerting.selectors import DispatchConfig

Targets = dict[int, list[dict[str, Any]]]


# Per process: the routes' flap settings for one dispatch configuration (the
# configuration object is rebuilt whenever the tenant's configuration version moves).
_flap_settings_cache: dict[str, tuple[DispatchConfig, dict[int, FlapSettings]]] = {}


def _route_flap_settings(config: DispatchConfig) -> dict[int, FlapSettings]:
    key = connection.schema_name
    cached = _flap_settings_cache.get(key)
    if cached is not None and cached[0] is config:
        return cached[1]
    found = {
        route_id: FlapSettings(threshold=threshold, window_seconds=window, hold=hold)
        for route_id, threshold, window, hold in Route.objects.values_list(
            "id", "flap_threshold", "flap_window", "flap_hold"
        )
    }
    _flap_settings_cache[key] = (config, found)
    return found


def alert_flap_settings(labels: dict[str, str], config: DispatchConfig) -> FlapSettings:
    """The first route the alert matches decides; without routes, the defaults (no hold)."""
    routes = routes_for(labels, config.routes) if config.routes else []
    if not routes:
        return FlapSettings()
    return _route_flap_settings(config).get(routes[0].id, FlapSettings())


# What the ingest's upsert returns of each alert for noise control, in the
# same round trip (alerting.ingest). It has appended the change it made to
# flap_changes already (at most flapping.KEPT_CHANGES are kept).
FLAP_COLUMNS = "id, flap_changes, flapping, flapping_since, flap_held, flap_held_since, " \
               "flap_receivers"


@dataclass(frozen=True)
class StoredFlap:
    """An alert's flap bookkeeping as stored (its latest state change included)."""

    alert_id: int
    group_id: int
    changes: tuple[float, ...]
    flapping: bool
    flapping_since: datetime | None
    held: int
    held_since: datetime | None
    receivers: tuple[int, ...]

    @classmethod
    def from_row(cls, *, group_id: int, row: Sequence[Any]) -> StoredFlap:
        """From FLAP_COLUMNS, in their order."""
        alert_id, changes, flapping, since, held, held_since, receivers = row
        return cls(alert_id, group_id, tuple(jsonb_value(changes) or ()), flapping, since, held,
                   held_since, tuple(jsonb_value(receivers) or ()))



def stored_flaps(fingerprints: list[str]) -> dict[str, StoredFlap]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT fingerprint, group_id, {FLAP_COLUMNS} FROM alerting_alert "  # noqa: S608
            "WHERE fingerprint = ANY(%s)", [fingerprints])
        return {row[0]: StoredFlap.from_row(group_id=row[1], row=row[2:])
                for row in cursor.fetchall()}


def flaps_mark_and_hold(alerts: dict[str, dict[str, Any]], targets: Targets,
                   config: DispatchConfig, now: datetime,
                   flaps: dict[str, StoredFlap]) -> set[str]:
    """Mark what flaps; the fingerprints whose messages wait for the summary.

    Most ingests write nothing here: the change is counted by the upsert, and
    a row is updated only when its mark moves or its change is held.
    """
    at = now.timestamp()
    held: set[str] = set()
    rows: list[dict[str, Any]] = []
    for fingerprint, stored in flaps.items():
        if fingerprint not in alerts:
            continue
        labels = alerts[fingerprint].get("labels", {})
        flap = alert_flap_settings(labels, config)
        was = stored.flapping
        state = flap_evaluate(FlapState(changes=stored.changes, flapping=was), now=at,
                              settings=flap)
        row = {"id": stored.alert_id, "flapping": state.flapping,
               "flapping_since": stored.flapping_since, "flap_held": stored.held,
               "flap_held_since": stored.held_since, "flap_receivers": list(stored.receivers)}
        if state.flapping != was:
            alert = Alert(id=stored.alert_id, fingerprint=fingerprint,
                          group_id=stored.group_id, labels=labels)
        if state.flapping and not was:
            row["flapping_since"] = now
            noise_tick_schedule(at=now + timedelta(seconds=flap.window_seconds))
            noise_event_record(action="flapping_started", alert=alert,
                               detail={"threshold": flap.threshold, "window": flap.window_seconds})
        elif was and not state.flapping:
            row["flapping_since"] = None
            noise_event_record(action="flapping_ended", alert=alert)
        if state.flapping and flap.hold:
            held.add(fingerprint)
            if not stored.held:
                row["flap_held_since"] = now
                noise_tick_schedule(at=now + timedelta(seconds=flap.window_seconds))
            row["flap_held"] = stored.held + 1
            told = {rid for rid, routed in targets.items()
                    if any(a["fingerprint"] == fingerprint for a in routed)}
            row["flap_receivers"] = sorted(set(stored.receivers) | told)
        if state.flapping != was or fingerprint in held:
            rows.append(row)
    if rows:
        _flap_marks_store(rows)
    return held


# One statement for every alert whose mark moved or whose change is held
# (Django's bulk_update builds a CASE per field and row).
_FLAP_STORE = """
UPDATE alerting_alert AS a
SET flapping = t.flapping, flapping_since = t.flapping_since,
    flap_held = t.flap_held, flap_held_since = t.flap_held_since,
    flap_receivers = t.flap_receivers
FROM jsonb_to_recordset(%s::jsonb) AS t(
    id bigint, flapping boolean, flapping_since timestamptz,
    flap_held integer, flap_held_since timestamptz, flap_receivers jsonb
)
WHERE a.id = t.id
"""


def _flap_marks_store(rows: list[dict[str, Any]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_FLAP_STORE, [msgspec.json.encode(rows).decode()])
