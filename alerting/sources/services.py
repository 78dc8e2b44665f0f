"""Writes for ingest sources: their settings checked, an event's acknowledge applied."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from alerting.audit.models import AuditSource
from alerting.models import IngestSource, IngestSourceKind
from alerting.sources.generic_json_config import generic_json_errors
from alerting.sources.selectors import INGEST_KEY_PREFIX_CHARS, source_alert_group
from alerting.sources.signature import DEFAULT_REPLAY_WINDOW_SECONDS
from escalation.actions.actors import Actor
from escalation.actions.apply import ActionOutcome, incident_action_apply
from escalation.actions.tokens import Action, ActionRequest

_HEADER = re.compile(r"\A[A-Za-z0-9-]{1,100}\Z")
MAX_SECRET_CHARS = 500
MAX_REPLAY_WINDOW_SECONDS = 86400
# What each kind's config and secrets may hold; generic_json checks its own.
_GRAFANA_CONFIG = {"signature_header", "timestamp_header", "replay_window_seconds"}
_GRAFANA_SECRETS = {"hmac_secret"}


def _grafana_check(config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(config) - _GRAFANA_CONFIG)
    if unknown:
        errors["config"] = [f"Unknown settings for a Grafana source: {', '.join(unknown)}."]
    for name in ("signature_header", "timestamp_header"):
        value = config.get(name)
        if value is not None and (not isinstance(value, str) or not _HEADER.match(value)):
            errors[f"config.{name}"] = ["An HTTP header name (letters, digits, dashes)."]
    window = config.get("replay_window_seconds")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int)
        or not 1 <= window <= MAX_REPLAY_WINDOW_SECONDS
    ):
        errors["config.replay_window_seconds"] = [
            f"Whole seconds from 1 to {MAX_REPLAY_WINDOW_SECONDS}."
        ]
    unknown = sorted(set(secrets) - _GRAFANA_SECRETS)
    if unknown:
        errors["secrets"] = [f"Unknown secrets for a Grafana source: {', '.join(unknown)}."]
    secret = secrets.get("hmac_secret")
    if secret is not None and (
        not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET_CHARS
    ):
        errors["secrets.hmac_secret"] = [f"A string of 1 to {MAX_SECRET_CHARS} characters."]
    return errors


def ingest_source_check(
    *, kind: str, ingest_key_prefix: str, config: Any, secrets: Any
) -> None:
    """Raises ValidationError (keys naming the fields) for settings a source may not have."""
    errors: dict[str, list[str]] = {}
    if kind not in IngestSourceKind.values:
        errors["kind"] = [f"One of {', '.join(IngestSourceKind.values)}."]
    if not ingest_key_prefix.startswith("hk_") or len(ingest_key_prefix) != INGEST_KEY_PREFIX_CHARS:
        errors["ingest_key_prefix"] = [
            f"The first {INGEST_KEY_PREFIX_CHARS} characters of an ingest key (hk_…), as the "
            "key list shows them."
        ]
    if not isinstance(config, dict):
        errors["config"] = ["An object."]
    if not isinstance(secrets, dict):
        errors["secrets"] = ["An object."]
    if not errors:
        if kind == IngestSourceKind.GRAFANA:
            errors.update(_grafana_check(config, secrets))
        elif kind == IngestSourceKind.PAGERDUTY_EVENTS and (config or secrets):
            errors["config"] = ["A PagerDuty Events source has no settings."]
        elif kind == IngestSourceKind.GENERIC_JSON:
            errors.update(generic_json_errors(config=config, secrets=secrets))
    if errors:
        raise ValidationError(errors)


def grafana_signature_settings(source: IngestSource) -> dict[str, Any]:
    config = source.config or {}
    return {
        "signature_header": config.get("signature_header") or "X-Grafana-Alerting-Signature",
        "timestamp_header": config.get("timestamp_header") or "",
        "replay_window_seconds": config.get(
            "replay_window_seconds", DEFAULT_REPLAY_WINDOW_SECONDS
        ),
    }


def pagerduty_actor(*, source: IngestSource) -> Actor:
    """A PagerDuty-compatible sender: acknowledges and resolves, by its routing key only."""
    name = f"pagerduty-events:{source.name}"[:200]
    return Actor(person_id=None, user_id=None, display=name, integration_user=name)


def source_group_acknowledge(*, source: IngestSource, group_key: str) -> ActionOutcome | None:
    """Acknowledge the group's current incident as the source; None if Herald has no such group."""
    group = source_alert_group(group_key=group_key)
    if group is None:
        return None
    return incident_action_apply(
        tenant=connection.tenant,
        request=ActionRequest(
            alert_group_id=group.id, incident=group.incident, action=Action.ACKNOWLEDGE
        ),
        actor=pagerduty_actor(source=source),
        channel="pagerduty-events",
        source=AuditSource.API,
    )
