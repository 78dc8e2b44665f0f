"""Grafana Alerting's webhook contact point (payload version "1") as Alertmanager's payload.

Grafana sends Alertmanager's shape plus its own fields; those a message
should show (the image, silence, dashboard and panel links, the values the
rule evaluated) become annotations, so every channel renders them with no
change. The result is then validated and bounded exactly as an Alertmanager
payload is (alerting.api.webhook), so its errors name the same fields.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from alerting.api.webhook import MAX_GROUP_KEY_BYTES, validated_webhook

GRAFANA_VERSION = "1"
# Grafana's per-alert fields carried as annotations, under these names.
_URL_ANNOTATIONS = {
    "imageURL": "image_url",
    "silenceURL": "silence_url",
    "dashboardURL": "dashboard_url",
    "panelURL": "panel_url",
}
MAX_URL_CHARS = 2048
MAX_VALUES = 20
MAX_VALUES_CHARS = 1000
TRUNCATED_ANNOTATION = "herald_warning"


def _fail(field: str, message: str) -> None:
    raise serializers.ValidationError({field: [message]})


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        _fail(field, "Must be a string.")
    if len(value) > limit:
        _fail(field, f"Longer than {limit} characters.")
    return value


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)[:100]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _values(value: Any, field: str) -> str:
    """`{"B": 44.239, "C": 1}` as "B=44.2394, C=1"; Grafana's values are numbers."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        _fail(field, "Must be an object of numbers.")
    if len(value) > MAX_VALUES:
        _fail(field, f"More than {MAX_VALUES} values.")
    text = ", ".join(f"{name}={_number(number)}" for name, number in sorted(value.items()))
    return text[:MAX_VALUES_CHARS]


def _alert(alert: Any, index: int) -> Any:
    if not isinstance(alert, dict):
        return alert  # the validation below names it
    annotations = alert.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        return alert
    extra: dict[str, str] = {}
    for field, name in _URL_ANNOTATIONS.items():
        url = _text(alert.get(field), f"alerts[{index}].{field}", MAX_URL_CHARS)
        if url:
            extra[name] = url
    values = _values(alert.get("values"), f"alerts[{index}].values")
    if not values:
        values = _text(alert.get("valueString"), f"alerts[{index}].valueString", MAX_VALUES_CHARS)
    if values:
        extra["values"] = values
    shaped = {
        key: alert[key]
        for key in ("status", "labels", "startsAt", "endsAt", "generatorURL", "fingerprint")
        if key in alert
    }
    # What Grafana's rule wrote wins over Herald's names for its fields.
    shaped["annotations"] = {**extra, **(annotations or {})}
    return shaped


def _group_key(payload: dict[str, Any], source: str) -> str:
    """Grafana's groupKey, kept apart from Alertmanager's (and other sources') by the source."""
    key = payload.get("groupKey")
    if not isinstance(key, str) or not key:
        labels = payload.get("groupLabels")
        labels = labels if isinstance(labels, dict) else {}
        key = "{}:{" + ",".join(f"{n}={labels[n]!r}" for n in sorted(labels)) + "}"
    key = f"grafana/{source}:{key}"
    if len(key.encode()) > MAX_GROUP_KEY_BYTES:
        _fail("groupKey", f"Longer than {MAX_GROUP_KEY_BYTES} bytes; Herald cannot index it.")
    return key


def grafana_truncated_warning(count: int) -> str:
    return (
        f"Grafana left {count} alert(s) out of this notification (truncatedAlerts); "
        "see Grafana for the whole group."
    )


def grafana_webhook(payload: Any, *, config: dict[str, Any], source: str) -> dict[str, Any]:
    """The validated Alertmanager-shaped payload for alert_batch_ingest.

    Raises DRF's ValidationError naming each bad field (a payload of another
    version, a missing alert list, a bad label...).
    """
    if not isinstance(payload, dict):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    version = payload.get("version")
    if version != GRAFANA_VERSION:
        _fail("version", f'Only Grafana webhook payload version "1" is accepted, not {version!r}.')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        _fail("alerts", "A non-empty list of alerts is required.")
    shaped = {
        key: payload[key]
        for key in ("status", "truncatedAlerts", "groupLabels", "commonLabels", "commonAnnotations")
        if key in payload
    }
    shaped.update(
        version="4",
        groupKey=_group_key(payload, source),
        receiver=_text(payload.get("receiver"), "receiver", 255),
        externalURL=_text(payload.get("externalURL"), "externalURL", MAX_URL_CHARS),
        alerts=[_alert(alert, index) for index, alert in enumerate(alerts)],
    )
    webhook = validated_webhook(shaped)
    truncated = webhook["truncatedAlerts"]
    if truncated > 0:
        warning = {TRUNCATED_ANNOTATION: grafana_truncated_warning(truncated)}
        webhook["commonAnnotations"] = {**webhook["commonAnnotations"], **warning}
        for alert in webhook["alerts"]:
            alert["annotations"] = {**alert["annotations"], **warning}
    return webhook


def grafana_alerts(payload: Any, *, config: dict[str, Any], source: str = "grafana") -> list[dict]:
    """The payload's alerts in Alertmanager's shape (see grafana_webhook for the group)."""
    return grafana_webhook(payload, config=config, source=source)["alerts"]
