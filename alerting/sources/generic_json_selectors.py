"""Reads of generic JSON sources."""

from __future__ import annotations

from alerting.models import IngestSource, IngestSourceKind
from alerting.sources.selectors import ingest_key_prefix


def generic_json_source_for_key(*, name: str, key: str) -> IngestSource | None:
    """The enabled generic JSON source of that name bound to this (authenticated) key."""
    if not key:
        return None
    return IngestSource.objects.filter(
        name=name,
        kind=IngestSourceKind.GENERIC_JSON,
        enabled=True,
        ingest_key_prefix=ingest_key_prefix(key=key),
    ).first()
