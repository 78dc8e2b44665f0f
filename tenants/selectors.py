"""Reads on tenants, cached where a request would otherwise pay a query."""

from __future__ import annotations

import time

from django.conf import settings

from tenants.models import ApiToken, HashedKey, IngestKey, Tenant
from tenants.services import key_digest

_key_cache: dict[tuple[str, str], tuple[float, Tenant | None]] = {}
_KEY_CACHE_MAX = 10_000


def _tenant_for_key(model: type[HashedKey], key: str) -> Tenant | None:
    """Cached per process for HERALD_INGEST_KEY_CACHE_SECONDS, so a revoked
    key stops working within that time."""
    if not key:
        return None
    cache_key = (model.__name__, key_digest(key=key))
    now = time.monotonic()
    cached = _key_cache.get(cache_key)
    if cached and cached[0] > now:
        return cached[1]
    row = (
        model.objects.select_related("tenant")
        .filter(key_hash=cache_key[1], revoked_at__isnull=True)
        .first()
    )
    tenant = row.tenant if row else None
    if len(_key_cache) >= _KEY_CACHE_MAX:
        _key_cache.clear()
    _key_cache[cache_key] = (now + settings.HERALD_INGEST_KEY_CACHE_SECONDS, tenant)
    return tenant


def tenant_for_ingest_key(*, key: str) -> Tenant | None:
    """The tenant an ingest key belongs to, or None for unknown/revoked keys."""
    return _tenant_for_key(IngestKey, key)


def tenant_for_api_token(*, key: str) -> Tenant | None:
    """The tenant a read-API token belongs to, or None for unknown/revoked tokens."""
    return _tenant_for_key(ApiToken, key)


def ingest_key_cache_clear() -> None:
    _key_cache.clear()


def tenant_list() -> list[Tenant]:
    return list(Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("slug"))
