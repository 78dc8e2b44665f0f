"""Noise control's evidence: audit entries and Prometheus metrics for flapping and storms."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from prometheus_client import Counter, Gauge

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record

logger = logging.getLogger("alerting.noise")

ACTOR = "herald"

flapping_alerts = Gauge(
    "alertmanager_flapping_alerts",
    "Alerts marked flapping now, by tenant.",
    ["tenant"],
    multiprocess_mode="mostrecent",
)
alert_storms_active = Gauge(
    "alertmanager_alert_storms_active",
    "Alert storms going on now (the tenant's and its groups'), by tenant.",
    ["tenant"],
    multiprocess_mode="mostrecent",
)
alert_storms_total = Counter(
    "alertmanager_alert_storms_total",
    "Alert storms that began, by tenant and scope (tenant or group).",
    ["tenant", "scope"],
)
flapping_events_total = Counter(
    "alertmanager_flapping_events_total",
    "Alerts that began or stopped flapping, by tenant and event.",
    ["tenant", "event"],
)


def _tenant() -> str:
    return getattr(getattr(connection, "tenant", None), "slug", "") or connection.schema_name


def noise_event_record(*, action: str, alert=None, scope: str = "",
                       detail: dict[str, Any] | None = None) -> None:
    """An audit entry (in the caller's transaction), a log line and the metric of one event."""
    tenant = _tenant()
    if alert is not None:
        obj_type, obj_id, obj_repr = "alert", alert.pk, str(alert)[:200]
        flapping_events_total.labels(tenant=tenant, event=action).inc()
    else:
        obj_type, obj_id, obj_repr = "alert_rate", scope, scope
        if action == "storm_started":
            alert_storms_total.labels(
                tenant=tenant, scope="tenant" if scope == "tenant" else "group").inc()
    logger.info("%s %s %s %s", tenant, action, obj_type, obj_repr)
    audit_record(actor=ACTOR, source=AuditSource.SYSTEM, action=action, obj_type=obj_type,
                 obj_id=obj_id, obj_repr=obj_repr, after=detail or {})


def noise_gauges_set(*, flapping: int, storms: int) -> None:
    tenant = _tenant()
    flapping_alerts.labels(tenant=tenant).set(flapping)
    alert_storms_active.labels(tenant=tenant).set(storms)
