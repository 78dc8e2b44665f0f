"""Reads of ingest sources."""

from __future__ import annotations

from alerting.models import IngestSource

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
