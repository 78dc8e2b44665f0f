"""Metrics by ingest source (Alertmanager's own stay in alerting.infra.metrics).

Labels are bounded: the tenant's slug and the source's kind, never its name
(a tenant may make any number of sources) nor anything from the payload.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter

source_alerts = Counter(
    "herald_source_alerts",
    "Alerts received from sources other than Alertmanager and stored, by tenant, source kind "
    "(grafana, pagerduty_events, generic_json) and status (firing, resolved).",
    ["tenant", "source", "status"],
)

source_events = Counter(
    "herald_source_events",
    "Requests of sources other than Alertmanager, by tenant, source kind and outcome "
    "(accepted, invalid, signature_refused, acknowledged).",
    ["tenant", "source", "outcome"],
)

source_truncated_alerts = Counter(
    "herald_source_truncated_alerts",
    "Alerts a source said it left out of its notifications (Grafana's truncatedAlerts).",
    ["tenant", "source"],
)

_STATUSES = ("firing", "resolved")


def source_alerts_record(*, tenant: str, source: str, alerts: Iterable[Mapping[str, Any]]) -> None:
    """Count a stored batch; call once it is committed."""
    counts = Tally(a.get("status") if a.get("status") in _STATUSES else "other" for a in alerts)
    for status, count in counts.items():
        source_alerts.labels(tenant=tenant, source=source, status=status).inc(count)


def source_event_record(*, tenant: str, source: str, outcome: str) -> None:
    source_events.labels(tenant=tenant, source=source, outcome=outcome).inc()


def source_truncated_record(*, tenant: str, source: str, count: int) -> None:
    source_truncated_alerts.labels(tenant=tenant, source=source).inc(count)
