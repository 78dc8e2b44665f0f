"""Delivery metrics (names are part of Herald's interface).

Labels stay bounded: tenant, receiver, channel, an outcome or reason from a
short fixed list, an HTTP status code. Never an alert name or fingerprint.
The health gauge uses a multiprocess mode so it also reads right when
prometheus_client runs in multiprocess mode (several worker processes).
"""

from __future__ import annotations

from django.db import connection
from prometheus_client import Counter, Gauge, Histogram


def tenant_label() -> str:
    """The `tenant` label of every metric: the current tenant's slug (what operators
    know it by, the same as ingest's and escalation's), not its schema name."""
    tenant = connection.tenant
    return getattr(tenant, "slug", None) or tenant.schema_name

notifications_total = Counter(
    "alertmanager_notifications_total",
    "Notifications by final or interim status (delivered, retry, failed, folded, "
    "merged, failed_over, digest).",
    ["tenant", "receiver", "channel", "status"],
)
notification_duration_seconds = Histogram(
    "alertmanager_notification_duration_seconds",
    "Time of one send to a receiver.",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
notification_errors_total = Counter(
    "alertmanager_notification_errors_total",
    "Failed sends and refused attempts by reason.",
    ["tenant", "receiver", "channel", "reason"],
)
integration_requests_total = Counter(
    "alertmanager_integration_requests_total",
    "Requests to vendors by HTTP status ('error' when no answer came).",
    ["channel", "code"],
)
receiver_health = Gauge(
    "alertmanager_receiver_health",
    "Circuit state of a receiver: 1 closed, 0.5 half-open, 0 open.",
    ["tenant", "receiver", "channel"],
    multiprocess_mode="liveall",
)


def error_reason(*, http_status: int | None, permanent: bool, error: str) -> str:
    """A reason from a fixed list, never the error text itself."""
    if http_status == 429:
        return "rate_limited"
    if http_status is not None and http_status >= 500:
        return "server_error"
    if http_status is not None:
        return "client_error"
    if "in time" in error:
        return "timeout"
    if "connect" in error:
        return "connection"
    return "permanent" if permanent else "other"
