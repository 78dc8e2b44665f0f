"""A tenant's link signing keys: one signs, the ones it replaced verify for a grace period.

A rotation makes a new key the signing one and retires the old with the
time; links signed with a retired key keep working for
HERALD_LINK_KEY_GRACE_SECONDS (so the links in messages already sent are
not cut off at once), then are refused. Keys retired longer ago than that
are dropped at the next rotation.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants.models import Tenant


def _grace() -> timedelta:
    return timedelta(seconds=settings.HERALD_LINK_KEY_GRACE_SECONDS)


def _retired(tenant: Tenant) -> list[tuple[str, datetime]]:
    return [
        (entry["key"], datetime.fromisoformat(entry["retired_at"]))
        for entry in tenant.link_signing_keys_retired or []
    ]


def link_keys_verifying(*, tenant: Tenant, now: datetime | None = None) -> list[str]:
    """The keys a link of this tenant may be signed with: the signing key first.

    Raises alerting.encryption.SecretUnreadable when no configured
    encryption key decrypts them.
    """
    now = now or timezone.now()
    return [tenant.link_signing_key] + [
        key for key, retired_at in _retired(tenant) if now - retired_at < _grace()
    ]


def link_keys_refused(*, tenant: Tenant, now: datetime | None = None) -> list[str]:
    """Retired keys past their grace period (still stored until the next rotation)."""
    now = now or timezone.now()
    return [key for key, retired_at in _retired(tenant) if now - retired_at >= _grace()]


def tenant_link_key_rotate(*, tenant_id: int) -> Tenant:
    """Sign with a new key from now on; the old one verifies for the grace period."""
    now = timezone.now()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(id=tenant_id)
        kept = [
            {"key": key, "retired_at": retired_at.isoformat()}
            for key, retired_at in _retired(tenant)
            if now - retired_at < _grace()
        ]
        tenant.link_signing_keys_retired = [
            {"key": tenant.link_signing_key, "retired_at": now.isoformat()}, *kept
        ]
        tenant.link_signing_key = secrets.token_urlsafe(32)
        # update(), not save(): django-tenants refuses a tenant's save from
        # another tenant's schema, and this is no change an operator made.
        Tenant.objects.filter(id=tenant.id).update(
            link_signing_key=tenant.link_signing_key,
            link_signing_keys_retired=tenant.link_signing_keys_retired,
        )
    return tenant
