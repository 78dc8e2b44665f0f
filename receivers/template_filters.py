"""Herald's own template filters (pure): durations, dates, labels, severities, escaping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2

from receivers.severity import severity_color, severity_emoji
from receivers.truncation import truncate_text

_NO_END = "0001-01-01"
# strftime expands each directive to a few characters: a long format is no format.
_MAX_DATETIME_FORMAT = 200


def parse_time(value: str | None) -> datetime | None:
    """An Alertmanager timestamp, or None for its 'no end' zero time and for garbage."""
    if not value or value.startswith(_NO_END):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def duration_filter(value: Any) -> str:
    """'3d 4h', '2h 5m', '4m 10s', '42s' from a timedelta or seconds."""
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else float(value))
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [(amount, unit) for amount, unit in units if amount][:2]
    return " ".join(f"{amount}{unit}" for amount, unit in shown) or "0s"


def datetime_filter(value: Any, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if len(fmt) > _MAX_DATETIME_FORMAT:
        raise ValueError(f"a datetime format is limited to {_MAX_DATETIME_FORMAT} characters")
    if isinstance(value, str):
        value = parse_time(value)
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(UTC).strftime(fmt)


def label_filter(obj: Any, name: str, default: str = "") -> str:
    """`alert|label("instance", "n/a")`: a label of an alert (or of a labels mapping)."""
    if isinstance(obj, Mapping) and isinstance(obj.get("labels"), Mapping):
        obj = obj["labels"]
    if not isinstance(obj, Mapping):
        return default
    value = obj.get(name)
    return default if value in (None, "") else str(value)


def truncate_safe_filter(value: Any, length: int = 255, end: str = "…") -> str:
    return truncate_text(str(value), int(length), ellipsis=end)


def format_labels_filter(labels: Any, exclude: Any = ()) -> str:
    """'instance=web-1, job=api', sorted, without the names in `exclude`."""
    if not isinstance(labels, Mapping):
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in exclude)


def slack_escape_filter(value: Any) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _severity_emoji_filter(value: Any, resolved: bool = False) -> str:
    return severity_emoji(value, resolved=bool(resolved))


def _severity_color_filter(value: Any, resolved: bool = False) -> str:
    return severity_color(value, resolved=bool(resolved))


FILTERS = {
    "duration": duration_filter,
    "datetime": datetime_filter,
    "severity_emoji": _severity_emoji_filter,
    "severity_color": _severity_color_filter,
    "label": label_filter,
    "truncate_safe": truncate_safe_filter,
    "format_labels": format_labels_filter,
    "slack_escape": slack_escape_filter,
}
