"""Severity from alert labels, and how channels show it (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Most severe first. Alertmanager setups name severities freely; these
# aliases fold the common spellings into five levels.
SEVERITIES = ("critical", "error", "warning", "info", "none")
_ALIASES = {
    "crit": "critical",
    "fatal": "critical",
    "disaster": "critical",
    "emergency": "critical",
    "page": "critical",
    "p1": "critical",
    "high": "error",
    "major": "error",
    "err": "error",
    "p2": "error",
    "warn": "warning",
    "minor": "warning",
    "medium": "warning",
    "average": "warning",
    "p3": "warning",
    "low": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "p4": "info",
    "p5": "none",
}

SEVERITY_EMOJI = {
    "critical": "🔴",
    "error": "🟠",
    "warning": "🟡",
    "info": "🔵",
    "none": "⚪",
}
RESOLVED_EMOJI = "✅"
SEVERITY_COLOR = {
    "critical": "#D32F2F",
    "error": "#F57C00",
    "warning": "#FBC02D",
    "info": "#1976D2",
    "none": "#9E9E9E",
}
RESOLVED_COLOR = "#2E7D32"


def severity_normalize(value: Any) -> str:
    """One of SEVERITIES; anything unknown or missing is 'none'."""
    text = str(value or "").strip().lower()
    text = _ALIASES.get(text, text)
    return text if text in SEVERITIES else "none"


def severity_highest(values: Iterable[Any]) -> str:
    ranks = [SEVERITIES.index(severity_normalize(value)) for value in values]
    return SEVERITIES[min(ranks)] if ranks else "none"


def group_severity(*, common_labels: Mapping[str, str], alerts: Iterable[Mapping[str, Any]]) -> str:
    """The group's severity: the common label, else the worst firing alert's."""
    if "severity" in common_labels:
        return severity_normalize(common_labels["severity"])
    alerts = list(alerts)
    firing = [alert for alert in alerts if alert.get("status") == "firing"] or alerts
    return severity_highest(alert.get("labels", {}).get("severity") for alert in firing)


def severity_emoji(severity: Any, *, resolved: bool = False) -> str:
    return RESOLVED_EMOJI if resolved else SEVERITY_EMOJI[severity_normalize(severity)]


def severity_color(severity: Any, *, resolved: bool = False) -> str:
    """A '#RRGGBB' colour; green once resolved."""
    return RESOLVED_COLOR if resolved else SEVERITY_COLOR[severity_normalize(severity)]
