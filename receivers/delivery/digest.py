"""Folding many notifications into one message (pure): digests and grouping.

A digest carries the notifications a rate limit held back; a grouped message
carries alerts of one group that arrived within the grouping window. Both
keep each alert once, the newest state winning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

DIGEST_NAMES_SHOWN = 10


def alerts_merge(alert_lists: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One list, each alert (by fingerprint) once, in first-seen order, the latest state kept."""
    merged: dict[str, dict[str, Any]] = {}
    for alerts in alert_lists:
        for alert in alerts:
            key = alert.get("fingerprint") or repr(sorted(alert.get("labels", {}).items()))
            merged[key] = alert
    return list(merged.values())


def _alert_name(alert: dict[str, Any]) -> str:
    labels = alert.get("labels", {})
    name = labels.get("alertname", "alert")
    instance = labels.get("instance")
    return f"{name} ({instance})" if instance else name


def digest_text(*, alerts: list[dict[str, Any]], since: datetime, now: datetime) -> str:
    """'12 more alerts in the last 5 minutes: A (web-1), B, … and 2 others'."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    span = "minute" if minutes == 1 else f"{minutes} minutes"
    count = len(alerts)
    noun = "alert" if count == 1 else "alerts"
    names = [_alert_name(alert) for alert in alerts[:DIGEST_NAMES_SHOWN]]
    rest = count - len(names)
    listed = ", ".join(names) + (f" and {rest} more" if rest > 0 else "")
    return f"{count} more {noun} in the last {span}: {listed}"
