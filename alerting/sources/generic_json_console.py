"""The admin's test console for a generic JSON mapping: what a pasted sample becomes (no writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from alerting.alert_shape import iso
from alerting.sources.generic_json import generic_json_alerts, generic_json_webhooks
from alerting.sources.generic_json_config import MappingError

MAX_MAPPING_CHARS = 64 * 1024
# What the page shows of the result; the rest is cut with a note.
MAX_SHOWN_CHARS = 200_000


@dataclass(frozen=True)
class ConsoleResult:
    groups: list[dict[str, Any]] = field(default_factory=list)
    shown: str = ""  # the groups as indented JSON, cut at MAX_SHOWN_CHARS
    cut: bool = False
    error_field: str = ""
    error: str = ""


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _parsed(text: str, *, what: str, limit: int) -> Any:
    if len(text) > limit:
        raise MappingError(what, f"longer than {limit:,} characters")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise MappingError(what, "nested too deeply") from None
    except ValueError as exc:
        raise MappingError(what, f"not valid JSON: {exc}") from None


def _shown(webhook: dict[str, Any]) -> dict[str, Any]:
    return {
        **webhook,
        "alerts": [
            {**alert, "startsAt": iso(alert["startsAt"]), "endsAt": iso(alert["endsAt"])}
            for alert in webhook["alerts"]
        ],
    }


def generic_json_console(*, source_name: str, mapping_text: str, sample_text: str) -> ConsoleResult:
    """The groups and alerts `sample_text` becomes under `mapping_text`, or the error by field.

    Both texts are bounded (the mapping at MAX_MAPPING_CHARS, the sample at the
    ingest body limit); nothing is stored.
    """
    try:
        config = _parsed(mapping_text, what="mapping", limit=MAX_MAPPING_CHARS)
        sample = _parsed(
            sample_text, what="sample", limit=settings.HERALD_INGEST_MAX_BODY_BYTES
        )
        if not isinstance(config, dict):
            raise MappingError("mapping", "must be a JSON object")
        alerts = generic_json_alerts(sample, config=config)
        groups = [
            _shown(webhook)
            for webhook in generic_json_webhooks(
                alerts, source_name=source_name, group_by=config.get("group_by", ["alertname"])
            )
        ]
    except MappingError as error:
        return ConsoleResult(error_field=error.field, error=error.message)
    text = json.dumps(groups, indent=2, ensure_ascii=False)
    return ConsoleResult(
        groups=groups, shown=text[:MAX_SHOWN_CHARS], cut=len(text) > MAX_SHOWN_CHARS
    )
