"""A generic JSON mapping's declaration, checked: fields, names and every expression (pure)."""

from __future__ import annotations

from typing import Any

from alerting.sources.jmespath_bounded import expression_compile
from alerting.storable import UNSTORABLE_CHAR

MAX_ALERTS = 1_000
MAX_LABELS = 64
MAX_LABEL_VALUE_CHARS = 10_000
MAX_ANNOTATION_VALUE_CHARS = 100_000
MAX_TEMPLATE_CHARS = 20_000
STATUSES = ("firing", "resolved")
_EXPRESSION_FIELDS = ("alerts", "status", "fingerprint", "startsAt", "endsAt", "generatorURL")
_KNOWN_FIELDS = frozenset(
    {*_EXPRESSION_FIELDS, "labels", "annotations", "status_map", "group_by", "template"}
)


class MappingError(ValueError):
    """A mapping, or what it made of a body, is wrong; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _expression_map(value: Any, field: str) -> None:
    if isinstance(value, str):
        _expression_check(value, field)
        return
    if not isinstance(value, dict):
        raise MappingError(field, "must be an expression or an object of name: expression")
    if len(value) > MAX_LABELS:
        raise MappingError(field, f"at most {MAX_LABELS} names")
    for name, expression in value.items():
        if not name or UNSTORABLE_CHAR.search(name):
            raise MappingError(field, f"{name!r} is not a valid name")
        _expression_check(expression, f"{field}.{name}")


def _expression_check(expression: Any, field: str) -> None:
    try:
        expression_compile(expression)
    except ValueError as exc:
        raise MappingError(field, str(exc)) from None


def generic_json_config_check(config: Any) -> None:
    """Raise MappingError naming the first wrong field of a mapping; compiles every expression."""
    if not isinstance(config, dict):
        raise MappingError("config", "must be an object")
    unknown = sorted(set(config) - _KNOWN_FIELDS)
    if unknown:
        raise MappingError(unknown[0], f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    group_by = config.get("group_by", ["alertname"])
    if not isinstance(group_by, list) or len(group_by) > MAX_LABELS or not all(
        isinstance(name, str) and name for name in group_by
    ):
        raise MappingError("group_by", "must be a list of label names")
    if "template" in config:
        template = config["template"]
        if not isinstance(template, str) or not template.strip():
            raise MappingError("template", "must be a non-empty template")
        if len(template) > MAX_TEMPLATE_CHARS:
            raise MappingError("template", f"longer than {MAX_TEMPLATE_CHARS:,} characters")
        others = sorted(set(config) - {"template", "group_by"})
        if others:
            raise MappingError(others[0], "a template mapping takes only template and group_by")
        return
    if "labels" not in config:
        raise MappingError("labels", "the mapping needs labels")
    if "startsAt" not in config:
        raise MappingError(
            "startsAt",
            "the mapping needs startsAt (a time that stays the same while the alert fires)",
        )
    _expression_map(config["labels"], "labels")
    if "annotations" in config:
        _expression_map(config["annotations"], "annotations")
    for field in _EXPRESSION_FIELDS:
        if field in config:
            _expression_check(config[field], field)
    status_map = config.get("status_map", {})
    if not isinstance(status_map, dict) or len(status_map) > MAX_LABELS:
        raise MappingError("status_map", f"must be an object of at most {MAX_LABELS} values")
    for source, target in status_map.items():
        if target not in STATUSES:
            raise MappingError(f"status_map.{source}", "must map to 'firing' or 'resolved'")




def short(name: str) -> str:
    """A name from a body, cut short for an error message (the body is never echoed)."""
    return name if len(name) <= 60 else f"{name[:57]}..."


def generic_json_errors(*, config: Any, secrets: Any) -> dict[str, list[str]]:
    """A generic JSON source's settings as ValidationError's messages, the mapping's field
    named in the message (a form shows it under `config`)."""
    if secrets:
        return {"secrets": ["A generic JSON source has no secrets."]}
    try:
        generic_json_config_check(config)
    except MappingError as error:
        return {"config": [str(error)]}
    return {}
