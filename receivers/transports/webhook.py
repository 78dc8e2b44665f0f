"""Generic webhook: Alertmanager-compatible JSON, so existing consumers keep working."""

from __future__ import annotations

from typing import Any

from receivers.messages import AlertMessage
from receivers.transports.base import SendResult, Transport, TransportError
from receivers.transports.http import http_post


def webhook_payload(message: AlertMessage) -> dict[str, Any]:
    """The body Alertmanager's own webhook would send for this message."""
    return {
        "version": "4",
        "groupKey": message.group_key,
        "truncatedAlerts": message.truncated_alerts,
        "status": message.status,
        "receiver": message.receiver_name,
        "groupLabels": message.group_labels,
        "commonLabels": message.common_labels,
        "commonAnnotations": message.common_annotations,
        "externalURL": message.external_url,
        "alerts": message.alerts,
    }


class WebhookTransport(Transport):
    kind = "webhook"

    def send(self, message: AlertMessage) -> SendResult:
        url = self.secrets.get("url")
        if not url:
            raise TransportError("the receiver has no URL", permanent=True)
        headers = {str(k): str(v) for k, v in self.config.get("headers", {}).items()}
        response = http_post(
            url,
            allow_private=self.allow_private,
            json=webhook_payload(message),
            headers=headers,
            timeout=self.config.get("timeout_seconds"),
        )
        self.raise_for_response(response)
        return SendResult(http_status=response.status_code)
