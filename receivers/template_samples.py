"""Sample alert groups: the preview's, and the harder ones templates are checked against (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from receivers.messages import AlertMessage, MessageAction

# What a firing message offers (escalation.actions.actions_for_state), as previews show it.
_SAMPLE_ACTIONS = (
    ("acknowledge", "Acknowledge"), ("resolve", "Resolve"), ("silence_1h", "Silence 1 h"),
    ("silence_4h", "Silence 4 h"), ("silence_24h", "Silence 24 h"),
)

# The preview's "now": the sample alerts started half an hour before.
SAMPLE_NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def sample_message(*, status: str = "firing") -> AlertMessage:
    """A realistic alert group, for previews and for checking templates on save."""
    resolved = status == "resolved"
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": "HighLatency",
                "severity": "critical",
                "instance": f"web-{n}:9100",
                "job": "api",
            },
            "annotations": {
                "summary": f"p99 latency on web-{n} is 2.4s",
                "description": "The 99th percentile of request latency is above 2s for 5 minutes.",
                "runbook_url": "https://runbooks.example.com/high-latency",
            },
            "startsAt": "2026-01-15T09:30:00Z",
            "endsAt": "2026-01-15T10:05:00Z" if resolved else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency",
            "fingerprint": f"{n:016x}",
        }
        for n in (1, 2)
    ]
    return AlertMessage(
        notification_id=0,
        tenant_slug="acme",
        tenant_name="Acme",
        receiver_name="preview",
        receiver_kind="",
        status=status,
        group_key='{}:{alertname="HighLatency"}',
        group_labels={"alertname": "HighLatency"},
        common_labels={"alertname": "HighLatency", "severity": "critical", "job": "api"},
        common_annotations={},
        external_url="http://alertmanager.example.com:9093",
        truncated_alerts=0,
        alerts=alerts,
        acknowledge_url="https://herald.example.com/ack/preview",
        alert_group_id=1,
        incident=1,
        group_state="resolved" if resolved else "firing",
        actions=() if resolved else tuple(
            MessageAction(action=action, label=label,
                          url=f"https://herald.example.com/act/preview-{action}/",
                          token=f"a.1.1.preview.{action}"[:48])
            for action, label in _SAMPLE_ACTIONS
        ),
    )


def _alert(n: int, *, labels: dict[str, str], annotations: dict[str, str]) -> dict:
    return {
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": "2026-01-15T09:30:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": f"{n:016x}",
    }


def _group(alerts: list[dict], *, common: dict[str, str], external_url: str) -> AlertMessage:
    return AlertMessage(
        notification_id=0,
        tenant_slug="acme",
        tenant_name="Acme",
        receiver_name="check",
        receiver_kind="",
        status="firing",
        group_key="{}:" + ",".join(f"{k}={v!r}" for k, v in sorted(common.items()))[:200],
        group_labels={"alertname": common.get("alertname", "")},
        common_labels=common,
        common_annotations={},
        external_url=external_url,
        truncated_alerts=0,
        alerts=alerts,
        acknowledge_url="",
    )


def many_alerts_message(count: int = 500) -> AlertMessage:
    """An alert storm: one group of `count` alerts from as many instances."""
    common = {"alertname": "InstanceDown", "severity": "critical", "job": "node"}
    alerts = [
        _alert(
            n,
            labels={**common, "instance": f"node-{n}:9100", "zone": f"zone-{n % 3}"},
            annotations={"summary": f"node-{n} is down", "description": "No scrape for 5m."},
        )
        for n in range(count)
    ]
    return _group(alerts, common=common, external_url="http://alertmanager.example.com:9093")


def long_labels_message() -> AlertMessage:
    """Few alerts, each with forty labels of a kilobyte and long annotations."""
    common = {"alertname": "QueryErrors", "severity": "warning"}
    alerts = [
        _alert(
            n,
            labels={**common, **{f"label_{k}": f"{k}-" + "x" * 1_000 for k in range(40)}},
            annotations={"summary": "s" * 4_000, "description": "d" * 8_000},
        )
        for n in range(3)
    ]
    return _group(alerts, common=common, external_url="http://alertmanager.example.com:9093")


def bare_message() -> AlertMessage:
    """The least an alert can be: an alertname, no annotations, no URLs."""
    alerts = [_alert(0, labels={"alertname": "Bare"}, annotations={})]
    return _group(alerts, common={"alertname": "Bare"}, external_url="")


def check_samples() -> list[tuple[str, AlertMessage]]:
    """Every group a template must render for before it is saved."""
    return [
        ("firing", sample_message(status="firing")),
        ("resolved", sample_message(status="resolved")),
        ("many alerts", many_alerts_message()),
        ("long labels", long_labels_message()),
        ("no annotations", bare_message()),
    ]
