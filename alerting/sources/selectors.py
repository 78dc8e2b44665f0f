"""Reads of ingest sources."""

from __future__ import annotations

from datetime import datetime

from alerting.models import Alert, AlertGroup, IngestSource

# tenants.services makes a key's prefix of its first ten characters.
INGEST_KEY_PREFIX_CHARS = 10


def ingest_key_prefix(*, key: str) -> str:
    """The prefix an ingest key is shown (and a source bound) by."""
    return key[:INGEST_KEY_PREFIX_CHARS]


def ingest_source_for_key(*, key: str, kind: str) -> IngestSource | None:
    """The enabled source of `kind` bound to an (already authenticated) ingest key, if any.

    Runs in the key's tenant schema.
    """
    if not key:
        return None
    return IngestSource.objects.filter(
        ingest_key_prefix=ingest_key_prefix(key=key), kind=kind, enabled=True
    ).first()


def source_alert_state(*, fingerprint: str) -> tuple[str, datetime, dict, dict] | None:
    """The stored alert's status, startsAt, labels and annotations, if Herald has it."""
    return (
        Alert.objects.filter(fingerprint=fingerprint)
        .values_list("status", "starts_at", "labels", "annotations")
        .first()
    )


def source_alert_group(*, group_key: str) -> AlertGroup | None:
    return AlertGroup.objects.filter(group_key=group_key).first()
