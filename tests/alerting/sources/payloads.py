"""Bodies as the vendors document them: Grafana's webhook (version 1), PagerDuty's events."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time

# The shape of Grafana's documented webhook example: two firing alerts of one
# contact point, with Grafana's own fields (silenceURL, dashboardURL, panelURL,
# values) next to Alertmanager's.
_GRAFANA = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.example/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.example/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.example/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {
                "description": "The system has high CPU usage",
                "runbook_url": "https://myrunbook.example/runbook/1234",
                "summary": "This alert was triggered for zone eu-1",
            },
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.example/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://play.grafana.example/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "https://play.grafana.example/d/cpu",
            "panelURL": "https://play.grafana.example/d/cpu?viewPanel=3",
            "imageURL": "https://play.grafana.example/render/cpu.png",
            "values": {"B": 82.1, "C": 1},
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.example/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n",
}


def grafana_payload(**changes) -> dict:
    payload = copy.deepcopy(_GRAFANA)
    payload.update(changes)
    return payload


def grafana_signed(body: bytes, secret: str, *, stamp: int | None = None) -> dict[str, str]:
    """Headers as Grafana signs: hex HMAC-SHA256 of the body, or of "<timestamp>:<body>"."""
    if stamp is None:
        return {"HTTP_X_GRAFANA_ALERTING_SIGNATURE": _hex(secret, body)}
    return {
        "HTTP_X_GRAFANA_ALERTING_SIGNATURE": _hex(secret, f"{stamp}:".encode() + body),
        "HTTP_X_GRAFANA_ALERTING_TIMESTAMP": str(stamp),
    }


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def now() -> int:
    return int(time.time())


# PagerDuty's documented Events API v2 examples: a trigger with the common
# fields, then an acknowledge and a resolve of the same dedup_key.
def pd_trigger(routing_key: str, **changes) -> dict:
    event = {
        "payload": {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com",
            "timestamp": "2026-11-30T14:42:58.315+0000",
            "severity": "critical",
            "source": "prod-datapipe03.example.com",
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "custom_details": {
                "free space": "1%",
                "ping time": "1500ms",
                "load avg": 0.75,
            },
        },
        "routing_key": routing_key,
        "dedup_key": "srv01/mysql",
        "images": [{
            "src": "https://chart.example.com/disk.png",
            "href": "https://monitoring.example.com/",
            "alt": "Disk usage",
        }],
        "links": [{"href": "https://monitoring.example.com/srv01", "text": "srv01 in the tool"}],
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
    }
    event.update(changes)
    return event


def pd_follow_up(routing_key: str, action: str, dedup_key: str = "srv01/mysql") -> dict:
    return {"routing_key": routing_key, "dedup_key": dedup_key, "event_action": action}
