"""Ingest: store an Alertmanager payload and the notifications it owes, in one transaction."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from alerting.models import AlertGroup
from alerting.state import AlertStateChange, alerts_to_notify
from receivers.selectors import receiver_list_enabled
from receivers.services import notification_bulk_create, notifications_enqueue

# One round trip: upsert the group (locking its row, which serialises
# concurrent posts for the same group), then upsert every alert by
# fingerprint. The alert upsert keeps the state it replaces in previous_*,
# read from the latest committed row, so "did this change?" is race-free.
# The alerts travel as one JSON document unpacked by PostgreSQL: passing
# seven arrays costs far more in client-side escaping.
_UPSERT_SQL = """
WITH grp AS (
    INSERT INTO alerting_alertgroup AS g (
        group_key, receiver, status, group_labels, common_labels, common_annotations,
        external_url, firing_count, resolved_count, truncated_alerts,
        first_seen_at, last_seen_at, last_payload
    ) VALUES (
        %(group_key)s, %(receiver)s, %(status)s, %(group_labels)s::jsonb,
        %(common_labels)s::jsonb, %(common_annotations)s::jsonb, %(external_url)s,
        %(firing_count)s, %(resolved_count)s, %(truncated)s, %(now)s, %(now)s,
        %(payload)s::jsonb
    )
    ON CONFLICT (group_key) DO UPDATE SET
        receiver = EXCLUDED.receiver, status = EXCLUDED.status,
        group_labels = EXCLUDED.group_labels, common_labels = EXCLUDED.common_labels,
        common_annotations = EXCLUDED.common_annotations,
        external_url = EXCLUDED.external_url, firing_count = EXCLUDED.firing_count,
        resolved_count = EXCLUDED.resolved_count,
        truncated_alerts = EXCLUDED.truncated_alerts,
        last_seen_at = EXCLUDED.last_seen_at, last_payload = EXCLUDED.last_payload
    RETURNING id
)
INSERT INTO alerting_alert AS a (
    fingerprint, group_id, status, labels, annotations, starts_at, ends_at,
    generator_url, previous_status, previous_starts_at, first_seen_at, last_seen_at
)
SELECT t.fingerprint, grp.id, t.status, t.labels, t.annotations,
       t.starts_at, t.ends_at, t.generator_url, '', NULL, %(now)s, %(now)s
FROM grp, jsonb_to_recordset(%(alerts)s::jsonb) AS t(
    fingerprint text, status text, labels jsonb, annotations jsonb,
    starts_at timestamptz, ends_at timestamptz, generator_url text
)
ON CONFLICT (fingerprint) DO UPDATE SET
    group_id = EXCLUDED.group_id, status = EXCLUDED.status, labels = EXCLUDED.labels,
    annotations = EXCLUDED.annotations, starts_at = EXCLUDED.starts_at,
    ends_at = EXCLUDED.ends_at, generator_url = EXCLUDED.generator_url,
    previous_status = a.status, previous_starts_at = a.starts_at,
    last_seen_at = EXCLUDED.last_seen_at
RETURNING group_id, fingerprint, status, starts_at, previous_status, previous_starts_at
"""


_UNSTORABLE_ESCAPE = re.compile(r"\\u(0000|d[89a-f])", re.IGNORECASE)
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return _UNSTORABLE_CHAR.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def storable_json(value: Any) -> str:
    """JSON that PostgreSQL's jsonb accepts: NUL and lone surrogates become U+FFFD.

    Validated fields never hold them; unknown fields kept in the raw payload may.
    """
    text = json.dumps(value)
    if _UNSTORABLE_ESCAPE.search(text):
        text = json.dumps(_storable(value))
    return text


@dataclass(frozen=True)
class IngestResult:
    alert_group_id: int
    alerts_stored: int
    notification_ids: list[int]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def notified_alert(
    *,
    status: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts_at: datetime,
    ends_at: datetime | None,
    generator_url: str,
    fingerprint: str,
) -> dict[str, Any]:
    """An alert in the shape Alertmanager sends it, for a notification record."""
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _iso(starts_at),
        "endsAt": _iso(ends_at) or "0001-01-01T00:00:00Z",
        "generatorURL": generator_url,
        "fingerprint": fingerprint,
    }


def _as_notified(alert: dict[str, Any]) -> dict[str, Any]:
    return notified_alert(
        status=alert["status"],
        labels=alert["labels"],
        annotations=alert["annotations"],
        starts_at=alert["startsAt"],
        ends_at=alert["endsAt"],
        generator_url=alert["generatorURL"],
        fingerprint=alert["fingerprint"],
    )


def _upsert(
    webhook: dict[str, Any], raw_payload: Any, now: datetime
) -> tuple[int, list[AlertStateChange]]:
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
        "payload": storable_json(raw_payload),
        "now": now,
        "alerts": json.dumps(
            [
                {
                    "fingerprint": alert["fingerprint"],
                    "status": alert["status"],
                    "labels": alert["labels"],
                    "annotations": alert["annotations"],
                    "starts_at": alert["startsAt"].isoformat(),
                    "ends_at": _iso(alert["endsAt"]),
                    "generator_url": alert["generatorURL"],
                }
                for alert in alerts
            ]
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, params)
        rows = cursor.fetchall()
    changes = [
        AlertStateChange(
            fingerprint=fingerprint,
            status=status,
            starts_at=starts_at,
            previous_status=previous_status,
            previous_starts_at=previous_starts_at,
        )
        for _, fingerprint, status, starts_at, previous_status, previous_starts_at in rows
    ]
    return rows[0][0], changes


def alert_batch_ingest(*, webhook: dict[str, Any], raw_payload: Any) -> IngestResult:
    """Store a validated webhook payload for the current tenant.

    `raw_payload` is the body as received, kept on the group for the audit
    trail. Alerts are upserted by fingerprint and the group by groupKey. Receivers
    are owed a notification only when an alert's state (status, startsAt)
    changed, so Alertmanager's retries and repeats notify nobody twice.
    """
    now = timezone.now()
    with transaction.atomic():
        group_id, changes = _upsert(webhook, raw_payload, now)
        changed = alerts_to_notify(changes)
        notification_ids: list[int] = []
        if changed:
            receivers = receiver_list_enabled()
            if receivers:
                notification_ids = notification_bulk_create(
                    alert_group=AlertGroup(id=group_id, group_key=webhook["groupKey"]),
                    receivers=receivers,
                    status=webhook["status"],
                    alerts=[_as_notified(alert) for alert in webhook["alerts"]],
                )
        if notification_ids:
            transaction.on_commit(partial(notifications_enqueue, notification_ids=notification_ids))
    return IngestResult(
        alert_group_id=group_id,
        alerts_stored=len(changes),
        notification_ids=notification_ids,
    )
