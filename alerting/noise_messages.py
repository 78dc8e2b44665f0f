"""What noise control says: the storm's message and the flapping summary, as alerts.

Each is an alert of Alertmanager's shape, so every channel's templates show
it like any other. Texts are in the tenant's default language.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import translation
from django.utils.translation import gettext, ngettext

from alerting.alert_shape import alertmanager_alert
from alerting.models import AlertStatus

STORM_ALERTNAME = "HeraldAlertStorm"
FLAPPING_ALERTNAME = "HeraldFlapping"


def _language() -> str:
    return getattr(getattr(connection, "tenant", None), "default_language", "") or "en"


def storm_text(*, count: int, minutes: int, usual: int) -> str:
    """'alert storm: 340 alerts in 5 min, usual 12'."""
    with translation.override(_language()):
        return ngettext(
            "alert storm: %(count)d alert in %(minutes)d min, usual %(usual)d",
            "alert storm: %(count)d alerts in %(minutes)d min, usual %(usual)d",
            count,
        ) % {"count": count, "minutes": minutes, "usual": usual}


def storm_details() -> str:
    with translation.override(_language()):
        return gettext(
            "Herald folds further alerts into digests until the rate calms down."
        )


def flap_text(*, count: int, minutes: int, status: str) -> str:
    """'flapped 9 times in 30 min, now firing'."""
    with translation.override(_language()):
        now = str(AlertStatus(status).label) if status in AlertStatus.values else status
        return ngettext(
            "flapped %(count)d time in %(minutes)d min, now %(status)s",
            "flapped %(count)d times in %(minutes)d min, now %(status)s",
            count,
        ) % {"count": count, "minutes": minutes, "status": now}


def storm_alert(*, row, alert_group, usual: int, bucket_seconds: int,
                now: datetime) -> dict[str, Any]:
    """The one message of a storm (`row`: its alerting.NoiseRate, locked)."""
    minutes = max(1, math.ceil(min(bucket_seconds, now.timestamp() - row.bucket_start) / 60))
    text = storm_text(count=row.bucket_count, minutes=minutes, usual=usual)
    scope = "tenant" if row.scope == "tenant" else "group"
    labels = {"alertname": STORM_ALERTNAME, "scope": scope, "severity": "warning"}
    if scope == "group":
        labels["group"] = alert_group.group_key[:200]
    return alertmanager_alert(
        status="firing", labels=labels,
        annotations={"summary": text, "description": storm_details()},
        starts_at=row.storm_since or now, ends_at=None, generator_url="",
        fingerprint=f"herald-storm-{row.scope}-{int((row.storm_since or now).timestamp())}",
    )


def flap_summary_alert(*, alert, count: int, since: datetime, now: datetime) -> dict[str, Any]:
    """The alert as it is now, its summary saying how often it flapped since `since`."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    text = flap_text(count=count, minutes=minutes, status=alert.status)
    annotations = dict(alert.annotations or {})
    original = annotations.get("summary")
    annotations["summary"] = f"{text}: {original}" if original else text
    annotations["herald_flapping"] = text
    return alertmanager_alert(
        status=alert.status, labels=dict(alert.labels or {}), annotations=annotations,
        starts_at=alert.starts_at, ends_at=alert.ends_at, generator_url=alert.generator_url,
        fingerprint=alert.fingerprint,
    )
