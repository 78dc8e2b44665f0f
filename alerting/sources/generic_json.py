"""Generic JSON ingest: a tenant's declared mapping from any JSON body to alerts (pure).

A mapping (IngestSource.config of kind generic_json) is either JMESPath
expressions (alerting.sources.jmespath_bounded: bounded in time and size)

    alerts        the list of alerts in the body (default: the body itself,
                  one alert, or each item of a list)
    labels        {name: expression} per alert, or one expression giving an object
    annotations   the same, optional
    status        expression, optional (default "firing"), through status_map,
                  e.g. {"ALARM": "firing", "OK": "resolved"}
    fingerprint   expression naming what identifies an alert (hashed); default:
                  the labels' fingerprint, as Alertmanager computes it
    startsAt      expression: RFC 3339 text, or seconds (or milliseconds) since 1970
    endsAt        optional, the same
    generatorURL  optional
    group_by      label names the alerts are grouped by (default ["alertname"])

or a sandboxed Jinja `template` (receivers.template_render: the tenants'
template sandbox and its limits) given the body as `payload`, whose output
is JSON: a list of alerts in Alertmanager's shape, or {"alerts": [...]}.

Every problem is a ValueError whose message starts with the field at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from alerting.sources.generic_json_config import (
    MAX_ALERTS,
    MAX_ANNOTATION_VALUE_CHARS,
    MAX_LABEL_VALUE_CHARS,
    MAX_LABELS,
    STATUSES,
    MappingError,
    generic_json_config_check,
    short,
)
from alerting.sources.jmespath_bounded import Budget, expression_search
from alerting.storable import UNSTORABLE_CHAR

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_SEPARATOR = 0xFF
_NO_END = datetime(1, 1, 1, tzinfo=UTC)
# Seconds since 1970 beyond this are taken as milliseconds (it is in 5138).
_MILLISECONDS_FROM = 10**11
MAX_GROUP_KEY_BYTES = 1_000  # the webhook allows 2,000

Render = Callable[[str, Mapping[str, Any]], str]


def _fnv1a(data: bytes, value: int = _FNV_OFFSET) -> int:
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (prometheus/common model.LabelsToSignature)."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        value = _fnv1a(name.encode() + bytes([_SEPARATOR]), value)
        value = _fnv1a(labels[name].encode() + bytes([_SEPARATOR]), value)
    return f"{value:016x}"


def _text_fingerprint(text: str) -> str:
    return f"{_fnv1a(text.encode()):016x}"


# --- applying it ----------------------------------------------------------


def _search(expression: str, data: Any, field: str, budget: Budget) -> Any:
    try:
        return expression_search(expression, data, budget=budget)
    except ValueError as exc:
        raise MappingError(field, str(exc)) from None


def _string_set(
    spec: Any, alert: Any, field: str, budget: Budget, *, longest: int, index: int
) -> dict[str, str]:
    where = f"alerts[{index}].{field}"
    if isinstance(spec, str):
        found = _search(spec, alert, field, budget)
        if found is None:
            return {}
        if not isinstance(found, dict):
            raise MappingError(field, f"{where} must be an object, not {_kind(found)}")
        pairs = found.items()
    else:
        pairs = (
            (name, _search(expr, alert, f"{field}.{short(name)}", budget))
            for name, expr in spec.items()
        )
    return _strings(pairs, field, where, longest=longest)


def _strings(pairs: Any, field: str, where: str, *, longest: int) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        if len(values) >= MAX_LABELS:
            raise MappingError(field, f"{where} has more than {MAX_LABELS} names")
        if value is None:
            continue  # nothing found: as in Alertmanager, an empty label is no label
        if not isinstance(value, str):
            raise MappingError(
                f"{field}.{short(name)}",
                f"{where}.{short(name)} is {_kind(value)}, not a string (wrap it in to_string())",
            )
        at = f"{field}.{short(name)}"
        if not name or UNSTORABLE_CHAR.search(name) or UNSTORABLE_CHAR.search(value):
            raise MappingError(at, f"{where} holds text PostgreSQL cannot store")
        if len(value) > longest:
            raise MappingError(at, f"{where}.{short(name)} is over {longest:,} characters")
        values[name] = value
    return values


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string"


def _time(value: Any, field: str, index: int) -> datetime | None:
    where = f"alerts[{index}].{field}"
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MappingError(field, f"{where} is a boolean, not a time")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise MappingError(field, f"{where} is out of range as a time") from None
    if not isinstance(value, str) or len(value) > 64:
        raise MappingError(field, f"{where} must be RFC 3339 text or seconds since 1970")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MappingError(field, f"{where} is not an RFC 3339 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _status(config: Mapping[str, Any], alert: Any, budget: Budget, index: int) -> str:
    if "status" not in config:
        return "firing"
    found = _search(config["status"], alert, "status", budget)
    status_map = config.get("status_map", {})
    if isinstance(found, list | dict):
        raise MappingError("status", f"alerts[{index}].status is {_kind(found)}, not a value")
    key = found if isinstance(found, str) else json.dumps(found)  # 1, true, null as JSON
    status = status_map.get(key, found)
    if status not in STATUSES:
        shown = key[:40]
        raise MappingError(
            "status",
            f"alerts[{index}] has the status {shown!r}, which status_map does not map to "
            "'firing' or 'resolved'",
        )
    return status


def _alert_from_expressions(
    config: Mapping[str, Any], alert: Any, budget: Budget, index: int
) -> dict[str, Any]:
    labels = _string_set(
        config["labels"], alert, "labels", budget, longest=MAX_LABEL_VALUE_CHARS, index=index
    )
    annotations = _string_set(
        config.get("annotations", {}), alert, "annotations", budget,
        longest=MAX_ANNOTATION_VALUE_CHARS, index=index,
    )
    fingerprint = None
    if "fingerprint" in config:
        found = _search(config["fingerprint"], alert, "fingerprint", budget)
        if isinstance(found, bool) or not isinstance(found, str | int | float) or found == "":
            raise MappingError(
                "fingerprint", f"alerts[{index}].fingerprint must be text or a number"
            )
        fingerprint = _text_fingerprint(str(found))
    values = {
        field: _search(config[field], alert, field, budget)
        for field in ("startsAt", "endsAt", "generatorURL")
        if field in config
    }
    return {
        "status": _status(config, alert, budget, index),
        "labels": labels,
        "annotations": annotations,
        "startsAt": values.get("startsAt"),
        "endsAt": values.get("endsAt"),
        "generatorURL": values.get("generatorURL"),
        "fingerprint": fingerprint,
    }


def _object(value: Any, field: str, index: int) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(field, f"alerts[{index}].{field} must be an object")
    return value


def _alert_from_template(item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MappingError("template", f"alerts[{index}] must be an object")
    labels, annotations = (
        _strings(_object(item.get(name), name, index).items(), name, f"alerts[{index}].{name}",
                 longest=longest)
        for name, longest in (
            ("labels", MAX_LABEL_VALUE_CHARS), ("annotations", MAX_ANNOTATION_VALUE_CHARS)
        )
    )
    status = item.get("status", "firing")
    if status not in STATUSES:
        raise MappingError("status", f"alerts[{index}].status must be 'firing' or 'resolved'")
    fingerprint = item.get("fingerprint")
    if fingerprint is not None:
        if isinstance(fingerprint, bool) or not isinstance(fingerprint, str | int | float):
            raise MappingError("fingerprint", f"alerts[{index}].fingerprint must be text")
        fingerprint = _text_fingerprint(str(fingerprint))
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": item.get("startsAt"),
        "endsAt": item.get("endsAt"),
        "generatorURL": item.get("generatorURL"),
        "fingerprint": fingerprint,
    }


def _finished(raw: dict[str, Any], index: int) -> dict[str, Any]:
    """An alert as the Alertmanager webhook serializer leaves it (datetimes, lower hex)."""
    if not raw["labels"]:
        raise MappingError("labels", f"the mapping yields no labels for alerts[{index}]")
    starts_at = _time(raw["startsAt"], "startsAt", index)
    if starts_at is None:
        raise MappingError("startsAt", f"alerts[{index}] has no startsAt")
    ends_at = _time(raw["endsAt"], "endsAt", index)
    url = raw["generatorURL"]
    if url is None:
        url = ""
    if not isinstance(url, str) or len(url) > MAX_LABEL_VALUE_CHARS or UNSTORABLE_CHAR.search(url):
        raise MappingError("generatorURL", f"alerts[{index}].generatorURL must be short text")
    return {
        "status": raw["status"],
        "labels": raw["labels"],
        "annotations": raw["annotations"],
        "startsAt": starts_at,
        "endsAt": None if ends_at is None or ends_at <= _NO_END else ends_at,
        "generatorURL": url,
        "fingerprint": raw["fingerprint"] or labels_fingerprint(raw["labels"]),
    }


def _items(found: Any, field: str) -> list[Any]:
    if isinstance(found, list):
        items = found
    elif found is None:
        items = []
    else:
        items = [found]
    if not items:
        raise MappingError(field, "the body holds no alerts")
    if len(items) > MAX_ALERTS:
        raise MappingError(field, f"{len(items):,} alerts, more than the {MAX_ALERTS:,} allowed")
    return items


def _template_items(config: Mapping[str, Any], payload: Any, render: Render) -> list[Any]:
    from receivers.template_limits import TemplateError  # the sandbox: Django's settings

    try:
        text = render(config["template"], {"payload": payload})
    except TemplateError as exc:
        raise MappingError("template", str(exc)) from None
    except RecursionError:
        # Handing the body to the renderer's process walks it.
        raise MappingError("template", "the body is nested too deeply for a template") from None
    try:
        produced = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MappingError("template", f"the output is not JSON: {exc}") from None
    if isinstance(produced, dict) and "alerts" in produced:
        produced = produced["alerts"]
    return _items(produced, "template")


def generic_json_alerts(
    payload: Any, *, config: Mapping[str, Any], render: Render | None = None
) -> list[dict[str, Any]]:
    """The alerts a body becomes under a mapping, as validated webhook alerts; or MappingError.

    `render` renders a template mapping (default: the tenants' sandbox,
    receivers.template_render.template_render_source).
    """
    generic_json_config_check(config)
    if "template" in config:
        if render is None:
            from receivers.template_render import template_render_source as render
        raws = [
            _alert_from_template(item, index)
            for index, item in enumerate(_template_items(config, payload, render))
        ]
    else:
        budget = Budget()
        found = payload
        if "alerts" in config:
            found = _search(config["alerts"], payload, "alerts", budget)
        raws = [
            _alert_from_expressions(config, item, budget, index)
            for index, item in enumerate(_items(found, "alerts"))
        ]
    alerts = [_finished(raw, index) for index, raw in enumerate(raws)]
    seen: dict[str, int] = {}
    for index, alert in enumerate(alerts):
        if alert["fingerprint"] in seen:
            raise MappingError(
                "fingerprint",
                f"alerts[{index}] has the fingerprint of alerts[{seen[alert['fingerprint']]}] "
                "(the same labels, or the same fingerprint value)",
            )
        seen[alert["fingerprint"]] = index
    return alerts


def _common(sets: list[dict[str, str]]) -> dict[str, str]:
    first, *rest = sets
    return {name: value for name, value in first.items() if all(s.get(name) == value for s in rest)}


_GROUP_KEY_UNSAFE = re.compile(r'["\\\n]')


def generic_json_webhooks(
    alerts: list[dict[str, Any]], *, source_name: str, group_by: list[str]
) -> list[dict[str, Any]]:
    """The alerts as validated Alertmanager webhooks, one per group (group_by's label values)."""
    groups: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
    for alert in alerts:
        key = tuple((name, alert["labels"].get(name, "")) for name in group_by)
        groups.setdefault(key, []).append(alert)
    webhooks = []
    for key, members in groups.items():
        shown = ",".join(
            f'{name}="{_GROUP_KEY_UNSAFE.sub("_", value)}"' for name, value in key
        )
        group_key = f"source/{source_name}:{{{shown}}}"
        if len(group_key.encode()) > MAX_GROUP_KEY_BYTES:
            group_key = f"source/{source_name}:{_text_fingerprint(group_key)}"
        firing = any(alert["status"] == "firing" for alert in members)
        webhooks.append({
            "version": "4",
            "groupKey": group_key,
            "truncatedAlerts": 0,
            "status": "firing" if firing else "resolved",
            "receiver": source_name,
            "groupLabels": {name: value for name, value in key if value},
            "commonLabels": _common([alert["labels"] for alert in members]),
            "commonAnnotations": _common([alert["annotations"] for alert in members]),
            "externalURL": "",
            "alerts": members,
        })
    return webhooks
