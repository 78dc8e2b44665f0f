"""Messages to send in transport tests: an ordinary one, a long one, a unicode-heavy one."""

from __future__ import annotations

from typing import Any

from receivers.messages import AlertMessage
from receivers.transports import transport_class

# Emoji with skin tone and ZWJ, a flag, combining accents, CJK, Arabic, and
# characters that mean something in HTML and Slack's mrkdwn.
UNICODE_TEXT = (
    "👩🏽‍🚀 🇫🇷 e\u0301te\u0301 数据库延迟 قاعدة البيانات <b>&amp; ok?</b> `x` *y* <@U1> 🔥"
)


def alert(status: str = "firing", n: int = 1, **fields: Any) -> dict[str, Any]:
    resolved = status == "resolved"
    return {
        "status": status,
        "labels": {
            "alertname": "HighLatency",
            "severity": "critical",
            "instance": f"web-{n}:9100",
            **fields.pop("labels", {}),
        },
        "annotations": {
            "summary": f"p99 latency on web-{n} is 2.4s",
            **fields.pop("annotations", {}),
        },
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "2026-11-23T10:30:00Z" if resolved else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency",
        "fingerprint": f"{n:016x}",
        **fields,
    }


def alert_message(status: str = "firing", **overrides: Any) -> AlertMessage:
    fields: dict[str, Any] = {
        "notification_id": 1,
        "tenant_slug": "alpha",
        "tenant_name": "Alpha",
        "receiver_name": "ops",
        "status": status,
        "group_key": '{}:{alertname="HighLatency"}',
        "group_labels": {"alertname": "HighLatency"},
        "common_labels": {"alertname": "HighLatency", "severity": "critical"},
        "common_annotations": {},
        "external_url": "http://alertmanager.example:9093",
        "truncated_alerts": 0,
        "alerts": [alert(status, 1), alert(status, 2)],
    }
    return AlertMessage(**{**fields, **overrides})


def long_message(status: str = "firing") -> AlertMessage:
    """60 alerts with 5,000-character descriptions: over every vendor's limit."""
    alerts = [
        alert(
            status,
            n,
            labels={"team": "storage-" + "x" * 300},
            annotations={
                "summary": f"Disk {n} is almost full " + "and getting fuller " * 20,
                "description": ("The volume fills at 2 GB/h. " * 180)[:5000],
            },
        )
        for n in range(60)
    ]
    return alert_message(
        status,
        alerts=alerts,
        group_labels={"alertname": "DiskFull", "cluster": "c" * 400},
        common_labels={"alertname": "DiskFull", "severity": "warning"},
    )


def unicode_message(status: str = "firing") -> AlertMessage:
    """Many alerts whose every text is multi-byte, combining or markup-like."""
    alerts = [
        alert(
            status,
            n,
            labels={"alertname": "Latence🔥", "service": UNICODE_TEXT},
            annotations={"summary": UNICODE_TEXT * 3, "description": UNICODE_TEXT * 40},
        )
        for n in range(30)
    ]
    return alert_message(
        status,
        alerts=alerts,
        group_labels={"alertname": "Latence🔥"},
        common_labels={"alertname": "Latence🔥", "severity": "error"},
    )


MESSAGES = {"plain": alert_message, "long": long_message, "unicode": unicode_message}


def transport(kind: str, *, config: dict | None = None, secrets: dict | None = None, **kwargs):
    return transport_class(kind)(
        config=config or {}, secrets=secrets or {}, allow_private=True, **kwargs
    )


def assert_whole_text(text: str) -> None:
    """No lone surrogate, no dangling combining mark or ZWJ at the cut."""
    text.encode("utf-8")  # raises on a lone surrogate
    trimmed = text.removesuffix("…")
    assert not trimmed.endswith(("\u200d", "\u0301", "\U0001f3fd")), repr(text[-5:])
