"""Reads on tenants, cached where a request would otherwise pay a query."""

from __future__ import annotations

import time

from django.conf import settings

from tenants.models import IngestKey, Tenant
from tenants.services import ingest_key_hash

_key_cache: dict[str, tuple[float, Tenant | None]] = {}
_KEY_CACHE_MAX = 10_000


def tenant_for_ingest_key(*, key: str) -> Tenant | None:
    """The tenant an ingest key belongs to, or None for unknown/revoked keys.

    Answers are cached per process for HERALD_INGEST_KEY_CACHE_SECONDS, so a
    revoked key stops working within that time.
    """
    if not key:
        return None
    digest = ingest_key_hash(key=key)
    now = time.monotonic()
    cached = _key_cache.get(digest)
    if cached and cached[0] > now:
        return cached[1]
    ingest_key = (
        IngestKey.objects.select_related("tenant")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    tenant = ingest_key.tenant if ingest_key else None
    if len(_key_cache) >= _KEY_CACHE_MAX:
        _key_cache.clear()
    _key_cache[digest] = (now + settings.HERALD_INGEST_KEY_CACHE_SECONDS, tenant)
    return tenant


def ingest_key_cache_clear() -> None:
    _key_cache.clear()


def tenant_list() -> list[Tenant]:
    return list(Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("slug"))
