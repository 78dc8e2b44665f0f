"""Writes on tenants, their ingest keys and API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import quote_schema_name, schema_exists

from alerting.infra.tenant_databases import tenant_database_aliases
from tenants.databases import database_pinned
from tenants.models import ApiScope, ApiToken, Domain, HashedKey, IngestKey, Tenant
from tenants.schema_clone import (
    TEMPLATE_SCHEMA,
    schema_clone_from_template,
    template_schema_ensure,
)
from tenants.spare_schemas import SPARE_PREFIX, spare_schema_claim, spare_schemas_enabled

logger = logging.getLogger(__name__)

INGEST_KEY_PREFIX = "hk_"
API_TOKEN_PREFIX = "ht_"  # noqa: S105 - a prefix, not a secret


def key_digest(*, key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tenant_create(
    *, slug: str, name: str, domain: str, allow_private_targets: bool = False,
    database: str = DEFAULT_DB_ALIAS,
) -> Tenant:
    """Create a tenant, its schema and its primary domain.

    The schema is a spare cloned ahead of time and renamed (tenants/spare_schemas.py),
    or, with none free, a copy of the migrated template (tenants/schema_clone.py);
    with HERALD_TENANT_SCHEMA_CLONE off, django-tenants migrates it. On another
    `database` than the shared schema's, the schema is cloned there first.
    """
    schema_name = slug.replace("-", "_")
    if schema_name.startswith(SPARE_PREFIX) or schema_name == TEMPLATE_SCHEMA:
        raise ValidationError({"slug": [_("This slug names one of Herald's own schemas.")]})
    if database not in tenant_database_aliases():
        raise ValidationError({"database": [_("No database of that name is configured.")]})
    if database != DEFAULT_DB_ALIAS:
        return _tenant_create_on(database, slug=slug, name=name, domain=domain,
                                 schema_name=schema_name,
                                 allow_private_targets=allow_private_targets)
    clone = settings.HERALD_TENANT_SCHEMA_CLONE
    spares = clone and spare_schemas_enabled()
    if clone:
        template_schema_ensure()  # outside the transaction: a deploy's first tenant migrates it
    with transaction.atomic():
        tenant = Tenant(
            slug=slug,
            name=name,
            schema_name=schema_name,
            allow_private_targets=allow_private_targets,
        )
        if clone:
            tenant.auto_create_schema = False
            tenant.save()
            # An existing schema is kept, as django-tenants' own creation does.
            if not schema_exists(schema_name):
                if not (spares and spare_schema_claim(schema_name=schema_name)):
                    schema_clone_from_template(schema_name=schema_name)
                if spares:  # a spare was taken, or there was none: the workers make more
                    transaction.on_commit(_spare_schemas_refill)
            post_schema_sync.send(sender=TenantMixin, tenant=tenant.serializable_fields())
        else:
            tenant.save()  # django-tenants creates and migrates the schema here
        Domain.objects.create(tenant=tenant, domain=domain, is_primary=True)
    return tenant


def _tenant_create_on(database: str, *, slug: str, name: str, domain: str, schema_name: str,
                      allow_private_targets: bool) -> Tenant:
    """A tenant whose schema lives on another database: two commits, undone together.

    The schema is cloned on `database` first (its template migrated there if
    needed), then the tenant's rows are written in the shared schema; if they
    fail (a slug or domain taken meanwhile), the new schema is dropped again.
    """
    with database_pinned(database) as tenant_db:
        template_schema_ensure()
        created = not schema_exists(schema_name)
        if created:
            with transaction.atomic(using=tenant_db.alias):
                schema_clone_from_template(schema_name=schema_name)
    try:
        with transaction.atomic():
            tenant = Tenant(slug=slug, name=name, schema_name=schema_name, database=database,
                            allow_private_targets=allow_private_targets)
            tenant.auto_create_schema = False
            tenant.save()
            Domain.objects.create(tenant=tenant, domain=domain, is_primary=True)
    except BaseException:
        if created:
            with database_pinned(database) as tenant_db, tenant_db.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {quote_schema_name(schema_name)} CASCADE")
        raise
    post_schema_sync.send(sender=TenantMixin, tenant=tenant.serializable_fields())
    return tenant


def _spare_schemas_refill() -> None:
    from tenants.tasks import spare_schemas_fill_task

    try:
        spare_schemas_fill_task.apply_async()
    except Exception as exc:  # kombu raises several types; beat's run fills the pool later
        logger.warning("broker unavailable, spare schemas left for beat: %s",
                       type(exc).__name__)


# last_used_at is for people ("is this token still in use?"): minute precision
# spares the database a write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def _hashed_key_create(model: type[HashedKey], prefix: str, tenant: Tenant, name: str,
                       **fields):
    key = prefix + secrets.token_urlsafe(32)
    row = model.objects.create(
        tenant=tenant, name=name, prefix=key[:10], key_hash=key_digest(key=key), **fields
    )
    return row, key


def ingest_key_create(*, tenant: Tenant, name: str) -> tuple[IngestKey, str]:
    """Create an ingest key; the plain value is returned once and never stored."""
    return _hashed_key_create(IngestKey, INGEST_KEY_PREFIX, tenant, name)


def api_token_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str] = (ApiScope.READ,),
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token; the plain value is returned once and never stored."""
    chosen = sorted(set(scopes))
    unknown = [scope for scope in chosen if scope not in ApiScope.values]
    if unknown or not chosen:
        allowed = ", ".join(ApiScope.values)
        message = (_("Choose one or more of %(allowed)s (not %(unknown)s).")
                   % {"allowed": allowed, "unknown": ", ".join(unknown)}) if unknown else (
            _("Choose one or more of %(allowed)s.") % {"allowed": allowed})
        raise ValidationError({"scopes": [message]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry must be in the future.")]})
    return _hashed_key_create(
        ApiToken, API_TOKEN_PREFIX, tenant, name, scopes=chosen, expires_at=expires_at
    )


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record that the token was used, at most once per LAST_USED_PRECISION.

    The caller has just read the row, so a recent time costs nothing; the
    condition in the UPDATE keeps concurrent requests to one write.
    """
    stale = now - LAST_USED_PRECISION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def hashed_key_revoke(*, key: HashedKey) -> None:
    """Revoke an ingest key or API token: refused at once in every process.

    API tokens are looked up on each request; an ingest key's write bumps its
    tenant's configuration version (tenants 0008), which ingest checks.
    """
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
