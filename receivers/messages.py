"""The message a notification carries, built from its database rows (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AlertMessage:
    notification_id: int
    tenant_slug: str
    receiver_name: str
    status: str
    group_key: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    truncated_alerts: int
    alerts: list[dict[str, Any]]


def alert_message_for(notification, *, tenant_slug: str) -> AlertMessage:
    group = notification.alert_group
    return AlertMessage(
        notification_id=notification.id,
        tenant_slug=tenant_slug,
        receiver_name=notification.receiver_name,
        status=notification.status,
        group_key=group.group_key,
        group_labels=group.group_labels,
        common_labels=group.common_labels,
        common_annotations=group.common_annotations,
        external_url=group.external_url,
        truncated_alerts=group.truncated_alerts,
        alerts=notification.alerts,
    )
