"""Writes on tenants and their ingest keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from tenants.models import Domain, IngestKey, Tenant

INGEST_KEY_PREFIX = "hk_"


def ingest_key_hash(*, key: str) -> str:
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


def ingest_key_create(*, tenant: Tenant, name: str) -> tuple[IngestKey, str]:
    """Create a key; the plain value is returned once and never stored."""
    key = INGEST_KEY_PREFIX + secrets.token_urlsafe(32)
    ingest_key = IngestKey.objects.create(
        tenant=tenant, name=name, prefix=key[:10], key_hash=ingest_key_hash(key=key)
    )
    return ingest_key, key


def ingest_key_revoke(*, ingest_key: IngestKey) -> None:
    ingest_key.revoked_at = timezone.now()
    ingest_key.save(update_fields=["revoked_at"])
