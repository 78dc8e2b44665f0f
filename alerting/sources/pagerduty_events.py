"""PagerDuty Events API v2 events (trigger, acknowledge, resolve) in Herald's terms.

Pure: checks an event as PagerDuty's enqueue endpoint does, and answers
with the same words (a list of `errors` for a bad event), then maps a
trigger or resolve to one alert in Alertmanager's shape. The dedup_key is
the incident: one alert group per source and key, its alert's fingerprint
a hash of both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rest_framework import serializers

from alerting.api.webhook import validated_webhook

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY_CHARS = 255
MAX_SUMMARY_CHARS = 1024
MAX_FIELD_CHARS = 255
# custom_details become labels: bounded in number, depth, name and value length.
MAX_DETAIL_LABELS = 20
MAX_DETAIL_DEPTH = 3
MAX_LABEL_NAME_CHARS = 100
MAX_LABEL_VALUE_CHARS = 256
MAX_LINKS = 5
_CORE_LABELS = ("source", "severity", "component", "group", "class")


class PagerDutyInvalid(Exception):
    """An event PagerDuty would refuse; `errors` in PagerDuty's words."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class PagerDutyEvent:
    action: str
    dedup_key: str
    dedup_key_given: bool
    body: dict[str, Any]


def _missing(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _string_error(event: dict, name: str, limit: int, *, required: bool) -> str | None:
    value = event.get(name)
    if value is None:
        return f"'{name}' is missing or blank" if required else None
    if _missing(value):
        return f"'{name}' is missing or blank" if required else f"'{name}' must be a string"
    if len(value) > limit:
        return f"'{name}' is longer than {limit} characters"
    return None


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    for name, limit in (("summary", MAX_SUMMARY_CHARS), ("source", MAX_FIELD_CHARS)):
        error = _string_error(payload, name, limit, required=True)
        if error:
            errors.append(f"'payload.{error[1:]}")
    if payload.get("severity") not in SEVERITIES:
        errors.append(f"'payload.severity' is invalid (must be one of: {', '.join(SEVERITIES)})")
    for name in ("component", "group", "class", "timestamp"):
        error = _string_error(payload, name, MAX_FIELD_CHARS, required=False)
        if error:
            errors.append(f"'payload.{error[1:]}")
    return errors


def pagerduty_event(data: Any, *, generated_key: str) -> PagerDutyEvent:
    """The checked event; raises PagerDutyInvalid with every error found.

    `generated_key` is the dedup_key a trigger without one gets (PagerDuty
    makes one up and returns it; so does Herald).
    """
    if not isinstance(data, dict):
        raise PagerDutyInvalid(["Event object must be a JSON object"])
    errors = []
    if _missing(data.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    action = data.get("event_action")
    if action not in ACTIONS:
        errors.append(f"'event_action' is invalid (must be one of: {', '.join(ACTIONS)})")
    given = data.get("dedup_key")
    error = _string_error(
        data, "dedup_key", MAX_DEDUP_KEY_CHARS, required=action in ("acknowledge", "resolve")
    )
    if error:
        errors.append(error)
    if action == "trigger":
        errors += _payload_errors(data.get("payload"))
    if errors:
        raise PagerDutyInvalid(errors)
    dedup_key = given if isinstance(given, str) and given.strip() else generated_key
    return PagerDutyEvent(
        action=action, dedup_key=dedup_key, dedup_key_given=dedup_key is given, body=data
    )


def pagerduty_group_key(*, source: str, dedup_key: str) -> str:
    return f"pagerduty/{source}:{dedup_key}"


def pagerduty_fingerprint(*, source: str, dedup_key: str) -> str:
    """Hex, as Alertmanager's fingerprints are; one per source and dedup_key."""
    return hashlib.sha256(f"{source}\0{dedup_key}".encode()).hexdigest()[:32]


def _label_name(parts: list[str]) -> str:
    name = "_".join(parts)
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean[:MAX_LABEL_NAME_CHARS]


def _flatten(value: Any, parts: list[str], out: dict[str, str]) -> None:
    if len(out) >= MAX_DETAIL_LABELS:
        return
    if isinstance(value, dict) and len(parts) < MAX_DETAIL_DEPTH:
        for key in sorted(value, key=str):
            _flatten(value[key], [*parts, str(key)], out)
        return
    name = _label_name(parts)
    if not name or name in out:
        return
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = ""
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        return  # a list or a deeper object is kept in the stored body, not as a label
    out[name] = text[:MAX_LABEL_VALUE_CHARS]


def _detail_labels(details: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(details, dict):
        _flatten(details, [], out)
    elif details is not None and not isinstance(details, list):
        out["details"] = str(details)[:MAX_LABEL_VALUE_CHARS]
    return out


def _links(body: dict[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = {}
    links = body.get("links")
    if isinstance(links, list):
        hrefs = [link.get("href") for link in links[:MAX_LINKS] if isinstance(link, dict)]
        hrefs = [href[:2048] for href in hrefs if isinstance(href, str) and href]
        if hrefs:
            annotations["links"] = " ".join(hrefs)
    images = body.get("images")
    if isinstance(images, list):
        for image in images[:MAX_LINKS]:
            src = image.get("src") if isinstance(image, dict) else None
            if isinstance(src, str) and src:
                annotations["image_url"] = src[:2048]
                break
    return annotations


def pagerduty_events_alerts(
    event: PagerDutyEvent, *, config: dict[str, Any], source: str, starts_at: datetime,
    ends_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """A trigger or resolve as one alert, not yet validated (see pagerduty_events_webhook).

    A resolve carries no payload: its alert keeps the labels the caller
    passes in `config["labels"]` (those of the alert it resolves).
    """
    body = event.body
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    if event.action == "trigger":
        labels = _detail_labels(payload.get("custom_details"))
        labels.update(
            {name: payload[name] for name in _CORE_LABELS if isinstance(payload.get(name), str)}
        )
        labels["alertname"] = (payload.get("class") or payload["summary"])[:MAX_FIELD_CHARS]
        annotations = {"summary": payload["summary"], **_links(body)}
    else:
        labels = dict(config.get("labels") or {"alertname": "PagerDuty event"})
        annotations = dict(config.get("annotations") or {})
    annotations["dedup_key"] = event.dedup_key
    client = body.get("client")
    if isinstance(client, str) and client:
        annotations["client"] = client[:MAX_FIELD_CHARS]
    client_url = body.get("client_url")
    return [{
        "status": "firing" if event.action == "trigger" else "resolved",
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts_at.isoformat(),
        "endsAt": ends_at.isoformat() if ends_at else None,
        "generatorURL": client_url[:2048] if isinstance(client_url, str) else "",
        "fingerprint": pagerduty_fingerprint(source=source, dedup_key=event.dedup_key),
    }]


def pagerduty_events_webhook(
    event: PagerDutyEvent, *, config: dict[str, Any], source: str, starts_at: datetime,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    """The validated Alertmanager-shaped payload alert_batch_ingest takes.

    Raises PagerDutyInvalid for what Herald cannot store (a NUL in a field).
    """
    alerts = pagerduty_events_alerts(
        event, config=config, source=source, starts_at=starts_at, ends_at=ends_at
    )
    shaped = {
        "version": "4",
        "groupKey": pagerduty_group_key(source=source, dedup_key=event.dedup_key),
        "status": alerts[0]["status"],
        "receiver": source,
        "groupLabels": {},
        "commonLabels": alerts[0]["labels"],
        "commonAnnotations": alerts[0]["annotations"],
        "alerts": alerts,
    }
    try:
        return validated_webhook(shaped)
    except serializers.ValidationError as exc:
        raise PagerDutyInvalid(_flat_errors(exc.detail)) from None


def _flat_errors(detail: Any, path: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [e for key, value in detail.items() for e in _flat_errors(value, f"{path}.{key}")]
    if isinstance(detail, list):
        return [e for item in detail for e in _flat_errors(item, path)]
    return [f"'{path.lstrip('.') or 'event'}' {detail}"]
