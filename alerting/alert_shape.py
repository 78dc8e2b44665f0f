"""An alert in the shape Alertmanager's webhook sends it (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

NO_END = "0001-01-01T00:00:00Z"


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def alertmanager_alert(
    *,
    status: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts_at: datetime,
    ends_at: datetime | None,
    generator_url: str,
    fingerprint: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": iso(starts_at),
        "endsAt": iso(ends_at) or NO_END,
        "generatorURL": generator_url,
        "fingerprint": fingerprint,
    }
