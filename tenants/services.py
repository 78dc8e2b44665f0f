"""Writes on tenants and their ingest keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from tenants.models import ApiToken, Domain, HashedKey, IngestKey, Tenant

INGEST_KEY_PREFIX = "hk_"
API_TOKEN_PREFIX = "ht_"  # noqa: S105 - a prefix, not a secret


def key_digest(*, key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tenant_create(
    *, slug: str, name: str, domain: str, allow_private_targets: bool = False
) -> Tenant:
    """Create a tenant, its schema (migrated) and its primary domain."""
    with transaction.atomic():
        tenant = Tenant(
            slug=slug,
            name=name,
            schema_name=slug.replace("-", "_"),
            allow_private_targets=allow_private_targets,
        )
        tenant.save()  # django-tenants creates and migrates the schema here
        Domain.objects.create(tenant=tenant, domain=domain, is_primary=True)
    return tenant


def _hashed_key_create(model: type[HashedKey], prefix: str, tenant: Tenant, name: str):
    key = prefix + secrets.token_urlsafe(32)
    row = model.objects.create(
        tenant=tenant, name=name, prefix=key[:10], key_hash=key_digest(key=key)
    )
    return row, key


def ingest_key_create(*, tenant: Tenant, name: str) -> tuple[IngestKey, str]:
    """Create an ingest key; the plain value is returned once and never stored."""
    return _hashed_key_create(IngestKey, INGEST_KEY_PREFIX, tenant, name)


def api_token_create(*, tenant: Tenant, name: str) -> tuple[ApiToken, str]:
    """Create a read-API token; the plain value is returned once and never stored."""
    return _hashed_key_create(ApiToken, API_TOKEN_PREFIX, tenant, name)


def hashed_key_revoke(*, key: HashedKey) -> None:
    """Revoke an ingest key or API token; caches forget it within their TTL."""
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
