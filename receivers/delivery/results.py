"""What a delivery step answers, how long its lease lasts, and the counts it keeps."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from receivers import metrics
from receivers.models import Notification


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str | None  # an AttemptOutcome, a final state, or None: nothing was sent
    retry_in: float | None = None


def lease_seconds() -> float:
    # Long enough for one send to finish or time out.
    return settings.HERALD_DELIVERY_LEASE_SECONDS or 2 * settings.HERALD_HTTP_TIMEOUT_SECONDS + 5


def metric_labels(notification: Notification) -> dict[str, str]:
    return {
        "tenant": metrics.tenant_label(),
        "receiver": notification.receiver_name,
        "channel": notification.channel,
    }


def notification_count(notification: Notification, status: str) -> None:
    metrics.notifications_total.labels(**metric_labels(notification), status=status).inc()
