"""Ingest: store an Alertmanager payload and the notifications it owes, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import msgspec
from django.db import connection, transaction
from django.utils import timezone

from alerting.alert_shape import alertmanager_alert
from alerting.dispatch import alerts_dispatch
from alerting.flap_marks import FLAP_COLUMNS, StoredFlap
from alerting.flapping import KEPT_CHANGES
from alerting.infra.metrics import alerts_received_record
from alerting.infra.sql import server_bound_cursor, sql_compact, transaction_first_execute
from alerting.models import AlertGroup, AlertStatus
from alerting.noise import STORM_IN_PROGRESS, NoiseFacts, StormInProgress
from alerting.state import AlertStateChange, alerts_to_notify
from alerting.storable import json_text_is_storable, storable_json
from escalation.models import EscalationState
from escalation.services import escalation_stop
from receivers.selectors import alert_states_notified

# One round trip: upsert the group (locking its row, which serialises
# concurrent posts for the same group), then upsert every alert by
# fingerprint. The alert upsert keeps the state it replaces in previous_*,
# read from the latest committed row, so "did this change?" is race-free; it
# answers whether startsAt changed, rather than returning both timestamps
# (parsing 200 of them cost more than the rest of the answer).
# The alerts travel as one JSON document unpacked by PostgreSQL: passing
# seven arrays costs far more in client-side escaping. It also returns the
# configuration version, so dispatch knows without a query whether its
# cached routes, silences and receivers are current, and what noise control
# reads: each alert's flap bookkeeping (with this change counted) and the
# storm in progress, if any.
_UPSERT_SQL = f"""
WITH grp AS (
    INSERT INTO alerting_alertgroup AS g (
        group_key, receiver, status, group_labels, common_labels, common_annotations,
        external_url, firing_count, resolved_count, truncated_alerts,
        first_seen_at, last_seen_at, last_payload
    ) VALUES (
        %(group_key)s, %(receiver)s, %(status)s, %(group_labels)s::jsonb,
        %(common_labels)s::jsonb, %(common_annotations)s::jsonb, %(external_url)s,
        %(firing_count)s, %(resolved_count)s, %(truncated)s, %(now)s, %(now)s,
        %(payload)s::json
    )
    ON CONFLICT (group_key) DO UPDATE SET
        receiver = EXCLUDED.receiver, status = EXCLUDED.status,
        group_labels = EXCLUDED.group_labels, common_labels = EXCLUDED.common_labels,
        common_annotations = EXCLUDED.common_annotations,
        external_url = EXCLUDED.external_url, firing_count = EXCLUDED.firing_count,
        resolved_count = EXCLUDED.resolved_count,
        truncated_alerts = EXCLUDED.truncated_alerts,
        last_seen_at = EXCLUDED.last_seen_at, last_payload = EXCLUDED.last_payload,
        -- firing again after a resolve is a new incident: nobody is on it yet
        incident = CASE WHEN g.status = 'resolved' AND EXCLUDED.status = 'firing'
                        THEN g.incident + 1 ELSE g.incident END,
        acknowledged_at = CASE WHEN g.status = 'resolved' AND EXCLUDED.status = 'firing'
                               THEN NULL ELSE g.acknowledged_at END,
        acknowledged_by = CASE WHEN g.status = 'resolved' AND EXCLUDED.status = 'firing'
                               THEN '' ELSE g.acknowledged_by END,
        resolved_at = CASE WHEN EXCLUDED.status = 'firing' THEN NULL ELSE g.resolved_at END,
        resolved_by = CASE WHEN EXCLUDED.status = 'firing' THEN '' ELSE g.resolved_by END
    RETURNING id
),
stored AS (
    INSERT INTO alerting_alert AS a (
        fingerprint, group_id, status, labels, annotations, starts_at, ends_at,
        generator_url, previous_status, previous_starts_at, first_seen_at, last_seen_at,
        flap_changes
    )
    SELECT t.fingerprint, grp.id, t.status, t.labels, t.annotations,
           t.starts_at, t.ends_at, t.generator_url, '', NULL, %(now)s, %(now)s,
           jsonb_build_array(%(epoch)s::float8)
    FROM grp, jsonb_to_recordset(%(alerts)s::jsonb) AS t(
        fingerprint text, status text, labels jsonb, annotations jsonb,
        starts_at timestamptz, ends_at timestamptz, generator_url text
    )
    ON CONFLICT (fingerprint) DO UPDATE SET
        group_id = EXCLUDED.group_id, status = EXCLUDED.status, labels = EXCLUDED.labels,
        annotations = EXCLUDED.annotations, starts_at = EXCLUDED.starts_at,
        ends_at = EXCLUDED.ends_at, generator_url = EXCLUDED.generator_url,
        -- an alert that comes under another groupKey (Alertmanager's routes
        -- changed, or a `continue` route keeps it in two groups) has no history
        -- in this group: '' marks the move (an insert leaves previous_starts_at
        -- NULL, a move does not), and what this group was told decides
        previous_status = CASE WHEN a.group_id = EXCLUDED.group_id THEN a.status ELSE '' END,
        previous_starts_at = a.starts_at,
        last_seen_at = EXCLUDED.last_seen_at,
        -- a state change (its status, or firing anew) is kept for flap
        -- detection (alerting.noise); past KEPT_CHANGES the oldest goes
        flap_changes = CASE
            WHEN a.status <> EXCLUDED.status OR a.starts_at IS DISTINCT FROM EXCLUDED.starts_at
            THEN (CASE WHEN jsonb_array_length(a.flap_changes) >= {KEPT_CHANGES}
                       THEN a.flap_changes - 0 ELSE a.flap_changes END) || EXCLUDED.flap_changes
            ELSE a.flap_changes END
    RETURNING group_id, fingerprint, status, previous_status,
              starts_at IS DISTINCT FROM previous_starts_at, suppressed,
              previous_status = '' AND previous_starts_at IS NOT NULL, {FLAP_COLUMNS}
)
-- once, not per alert: the configuration version and the storm in progress
SELECT stored.*, (SELECT version FROM alerting_config_version),
       {STORM_IN_PROGRESS.format(group_id="(SELECT id FROM grp)")}
FROM stored
"""  # noqa: S608 - built from constants of ours, never from input
# Commented for people, compact for psycopg's cache of parsed statements.
_UPSERT_SQL = sql_compact(_UPSERT_SQL)


def _as_notified(alert: dict[str, Any]) -> dict[str, Any]:
    return alertmanager_alert(
        status=alert["status"],
        labels=alert["labels"],
        annotations=alert["annotations"],
        starts_at=alert["startsAt"],
        ends_at=alert["endsAt"],
        generator_url=alert["generatorURL"],
        fingerprint=alert["fingerprint"],
    )


@dataclass(frozen=True)
class IngestResult:
    alert_group_id: int
    alerts_stored: int
    notification_ids: list[int]


@dataclass(frozen=True)
class _Upserted:
    group_id: int
    changes: list[AlertStateChange]
    config_version: int | None
    flap_rows: dict[str, tuple[Any, ...]]  # FLAP_COLUMNS of each alert, as read
    storm: StormInProgress | None

    def noise_for(self, fingerprints: set[str]) -> NoiseFacts:
        """What noise control reads of these alerts: only the ones that notify are decoded."""
        return NoiseFacts(
            flaps={fp: StoredFlap.from_row(group_id=self.group_id, row=self.flap_rows[fp])
                   for fp in fingerprints},
            storm=self.storm,
        )


def _payload_json(raw_payload: Any, raw_text: str | None) -> str:
    """The payload as received when PostgreSQL can store that text as it is."""
    if raw_text is not None and json_text_is_storable(raw_text):
        return raw_text
    return storable_json(raw_payload)


def _upsert(
    webhook: dict[str, Any], raw_payload: Any, raw_text: str | None, now: datetime
) -> _Upserted:
    alerts = webhook["alerts"]
    firing = sum(1 for alert in alerts if alert["status"] == "firing")
    params = {
        "group_key": webhook["groupKey"],
        "receiver": webhook["receiver"],
        "status": webhook["status"],
        "group_labels": json.dumps(webhook["groupLabels"]),
        "common_labels": json.dumps(webhook["commonLabels"]),
        "common_annotations": json.dumps(webhook["commonAnnotations"]),
        "external_url": webhook["externalURL"],
        "firing_count": firing,
        "resolved_count": len(alerts) - firing,
        "truncated": webhook["truncatedAlerts"],
        "payload": _payload_json(raw_payload, raw_text),
        "now": now,
        "epoch": now.timestamp(),
        # msgspec writes the datetimes as RFC 3339, which PostgreSQL reads.
        "alerts": msgspec.json.encode(
            [
                {
                    "fingerprint": alert["fingerprint"],
                    "status": alert["status"],
                    "labels": alert["labels"],
                    "annotations": alert["annotations"],
                    "starts_at": alert["startsAt"],
                    "ends_at": alert["endsAt"],
                    "generator_url": alert["generatorURL"],
                }
                for alert in alerts
            ]
        ).decode(),
    }
    with server_bound_cursor() as cursor:
        transaction_first_execute(cursor, _UPSERT_SQL, params)
        rows = cursor.fetchall()
    changes = [
        AlertStateChange(
            fingerprint=row[1],
            status=row[2],
            previous_status=row[3],
            started_anew=row[4],
            was_suppressed=row[5],
            moved=row[6],
        )
        for row in rows
    ]
    flap_end = 7 + len(FLAP_COLUMNS.split(","))
    return _Upserted(
        group_id=rows[0][0], changes=changes, config_version=rows[0][flap_end],
        flap_rows={row[1]: tuple(row[7:flap_end]) for row in rows},
        storm=StormInProgress.from_json(rows[0][flap_end + 1]),
    )


def _told_in_group(
    changes: list[AlertStateChange], webhook: dict[str, Any], group_id: int
) -> list[AlertStateChange]:
    """Alerts that moved here from another group, with what this group was told of them.

    Only moves pay the read: they are rare, and without it a move back and
    forth (two groups posting the same alert) would notify at every post.
    """
    moved = {change.fingerprint for change in changes if change.moved}
    if not moved:
        return changes
    told = alert_states_notified(
        alert_group_id=group_id,
        starts_at={a["fingerprint"]: a["startsAt"] for a in webhook["alerts"]
                   if a["fingerprint"] in moved},
    )
    return [
        replace(change, told_in_group=frozenset(told.get(change.fingerprint, ())))
        if change.moved else change
        for change in changes
    ]


def alert_batch_ingest(
    *,
    webhook: dict[str, Any],
    raw_payload: Any,
    raw_text: str | None = None,
    credentials_check: Callable[[int | None], None] | None = None,
) -> IngestResult:
    """Store a validated webhook payload for the current tenant.

    `raw_payload` is the body as received, kept on the group for the audit
    trail; `raw_text`, if given, is its strict-JSON text, stored verbatim.
    Alerts are upserted by fingerprint and the group by groupKey.
    Notifications are owed only for alerts whose state (status, startsAt)
    changed, so Alertmanager's retries and repeats notify nobody twice.
    `credentials_check` gets the configuration version the upsert read and
    may raise to roll it back (a key revoked meanwhile: tenants 0008).
    """
    now = timezone.now()
    with transaction.atomic():
        upserted = _upsert(webhook, raw_payload, raw_text, now)
        if credentials_check is not None:
            credentials_check(upserted.config_version)
        group_id = upserted.group_id
        changes = _told_in_group(upserted.changes, webhook, group_id)
        group = AlertGroup(id=group_id, group_key=webhook["groupKey"])
        changed = {change.fingerprint for change in alerts_to_notify(changes)}
        notification_ids: list[int] = []
        if changed:
            alerts = [_as_notified(a) for a in webhook["alerts"] if a["fingerprint"] in changed]
            notification_ids = alerts_dispatch(
                alert_group=group,
                firing=[a for a in alerts if a["status"] == AlertStatus.FIRING],
                resolved=[a for a in alerts if a["status"] == AlertStatus.RESOLVED],
                now=now,
                version=upserted.config_version,
                held_back={change.fingerprint for change in changes if change.was_suppressed},
                noise=upserted.noise_for(changed),
            )
        if webhook["status"] == AlertStatus.RESOLVED:
            escalation_stop(alert_group_id=group_id, state=EscalationState.RESOLVED)
    alerts_received_record(tenant=connection.tenant.slug, alerts=webhook["alerts"])
    return IngestResult(
        alert_group_id=group_id,
        alerts_stored=len(changes),
        notification_ids=notification_ids,
    )
