"""A generic JSON source's body, mapped and stored through Alertmanager's ingest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from alerting.alert_shape import iso
from alerting.ingest import alert_batch_ingest
from alerting.models import IngestSource, IngestSourceKind
from alerting.sources.generic_json import generic_json_alerts, generic_json_webhooks
from alerting.sources.generic_json_config import MappingError
from alerting.sources.metrics import source_alerts_record, source_event_record

logger = logging.getLogger(__name__)

# Groups one body may make: each is its own upsert and keeps its alerts' text.
MAX_GROUPS = 100
_KIND = IngestSourceKind.GENERIC_JSON


@dataclass(frozen=True)
class GenericJsonResult:
    alerts_stored: int
    notifications: int
    groups: int


def _group_payload(webhook: dict[str, Any]) -> dict[str, Any]:
    """What the group keeps as its last payload when one body made several groups:
    its own alerts as mapped, not the whole body again for each group."""
    return {
        **webhook,
        "alerts": [
            {**alert, "startsAt": iso(alert["startsAt"]), "endsAt": iso(alert["endsAt"])}
            for alert in webhook["alerts"]
        ],
    }


def generic_json_ingest(
    *,
    source: IngestSource,
    payload: Any,
    raw_text: str | None = None,
    credentials_check: Callable[[int | None], None] | None = None,
) -> GenericJsonResult:
    """Map the body with the source's mapping and store its alerts, all or none.

    Raises MappingError naming the field; the error is logged and counted
    with the source's name and the field only, never the body.
    """
    tenant = connection.tenant.slug
    try:
        alerts = generic_json_alerts(payload, config=source.config or {})
        webhooks = generic_json_webhooks(
            alerts, source_name=source.name,
            group_by=(source.config or {}).get("group_by", ["alertname"]),
        )
        if len(webhooks) > MAX_GROUPS:
            raise MappingError(
                "group_by", f"the body makes {len(webhooks)} groups, more than {MAX_GROUPS}"
            )
    except MappingError as error:
        logger.warning(
            "generic JSON source %r of tenant %s refused a body: %s",
            source.name, tenant, error.field,
        )
        source_event_record(tenant=tenant, source=_KIND, outcome="invalid")
        raise
    stored = notifications = 0
    with transaction.atomic():
        for webhook in webhooks:
            single = len(webhooks) == 1
            result = alert_batch_ingest(
                webhook=webhook,
                raw_payload=payload if single else _group_payload(webhook),
                raw_text=raw_text if single else None,
                credentials_check=credentials_check,
            )
            stored += result.alerts_stored
            notifications += len(result.notification_ids)
    source_event_record(tenant=tenant, source=_KIND, outcome="accepted")
    source_alerts_record(tenant=tenant, source=_KIND, alerts=alerts)
    return GenericJsonResult(
        alerts_stored=stored, notifications=notifications, groups=len(webhooks)
    )
