"""Reads on tenants and their credentials, cached where ingest would otherwise pay a query."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from tenants.models import ApiToken, IngestKey, Tenant
from tenants.services import key_digest


@dataclass
class _KnownKey:
    tenant: Tenant | None  # None: unknown or revoked
    # The tenant's configuration version at which the key was last seen valid
    # (None: not yet confirmed); see tenants 0008.
    confirmed_at_version: int | None = None
    refused_until: float = 0.0  # monotonic; for refusals only


# Per process: key digest -> what it selects.
_ingest_keys: dict[str, _KnownKey] = {}
_KEY_CACHE_MAX = 10_000


def _ingest_key_row(digest: str) -> IngestKey | None:
    return (
        IngestKey.objects.select_related("tenant")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )


def _remember(digest: str, known: _KnownKey) -> None:
    if len(_ingest_keys) >= _KEY_CACHE_MAX:
        _ingest_keys.clear()
    _ingest_keys[digest] = known


def tenant_for_ingest_key(*, key: str) -> Tenant | None:
    """The tenant an ingest key belongs to, or None for unknown/revoked keys.

    A key seen valid is remembered until ingest_key_confirm finds otherwise;
    a refusal is remembered for HERALD_INGEST_KEY_CACHE_SECONDS, so random
    keys do not cost a query each.
    """
    if not key:
        return None
    digest = key_digest(key=key)
    known = _ingest_keys.get(digest)
    if known is not None and (known.tenant is not None or known.refused_until > time.monotonic()):
        return known.tenant
    row = _ingest_key_row(digest)
    if row is None:
        _remember(digest, _KnownKey(
            tenant=None,
            refused_until=time.monotonic() + settings.HERALD_INGEST_KEY_CACHE_SECONDS,
        ))
        return None
    _remember(digest, _KnownKey(tenant=row.tenant))
    return row.tenant


def ingest_key_confirm(*, key: str, tenant: Tenant, version: int | None) -> bool:
    """Whether the key still selects `tenant` at configuration version `version`.

    `version` is the tenant's, read in the caller's transaction (ingest's
    upsert returns it). Revoking, moving or deleting a key bumps it, so an
    unchanged version confirms the remembered answer without a query; a
    changed one looks the key up again, in the same transaction, and the
    answer holds for that version.
    """
    digest = key_digest(key=key)
    known = _ingest_keys.get(digest)
    if (
        version is not None
        and known is not None
        and known.tenant is not None
        and known.tenant.pk == tenant.pk
        and known.confirmed_at_version == version
    ):
        return True
    row = _ingest_key_row(digest)
    if row is None or row.tenant_id != tenant.pk:
        # Forgotten, not refused: a key moved to another tenant works there next time.
        _ingest_keys.pop(digest, None)
        return False
    # The tenant row is read anew too: its edits bump the version (its ingest rate).
    _remember(digest, _KnownKey(tenant=row.tenant, confirmed_at_version=version))
    return True


def tenant_for_api_token(*, key: str) -> Tenant | None:
    """The tenant a usable (not revoked, not expired) API token belongs to, or None."""
    token = api_token_for_key(key=key)
    return token.tenant if token is not None and token.usable else None


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The API token with this secret, revoked and expired ones included, or None.

    Not cached: the API is not ingest's hot path, and one indexed lookup per
    request is what makes a revocation or an expiry count at once everywhere.
    """
    if not key:
        return None
    return ApiToken.objects.select_related("tenant").filter(key_hash=key_digest(key=key)).first()


def ingest_key_cache_clear() -> None:
    _ingest_keys.clear()


def tenant_list() -> list[Tenant]:
    return list(Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("slug"))
