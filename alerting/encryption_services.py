"""Re-encrypting stored secrets, and checking at start-up that the keys read them.

Encrypted values: every receiver's secrets (in each tenant's schema) and
every tenant's link signing keys (shared schema).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction

from alerting.encryption import SecretUnreadable
from alerting.fields import encrypted_fields, encrypted_value_readable, encrypted_value_recover

logger = logging.getLogger(__name__)


@dataclass
class Reencrypted:
    """What a re-encryption did: rows rewritten, of which from the old scheme, and rows left."""

    rotated: int = 0
    migrated: int = 0
    unreadable: list[str] = field(default_factory=list)


def encrypted_rows_reencrypt(
    *, model: type[models.Model], name_field: str, legacy: bool = True
) -> Reencrypted:
    """Rewrite every encrypted value of `model` (current schema) under the first key.

    Values of the old scheme are read too (with `legacy`) and so migrate. A
    row no key reads is left untouched and named in the result: writing it
    would destroy the secret. `model` may be a migration's historical model.
    """
    names = [f.name for f in encrypted_fields(model)]
    result = Reencrypted()
    for pk in model.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            row = model.objects.select_for_update().only(name_field, *names).get(pk=pk)
            values, migrated = {}, False
            try:
                for name in names:
                    if legacy:
                        values[name], old = encrypted_value_recover(row, name)
                    else:
                        values[name], old = getattr(row, name), False
                    migrated = migrated or old
            except SecretUnreadable:
                result.unreadable.append(str(getattr(row, name_field)))
                continue
            # update(), not save(): a rotation is no change of the row (updated_at stays).
            model.objects.filter(pk=pk).update(**values)
            result.rotated += 1
            result.migrated += migrated
    return result


def legacy_secrets_migrate(apps, schema_editor, *, label: str, name_field: str) -> None:
    """A data migration's step: re-encrypt one model's values of the old scheme."""
    model = apps.get_model(label)
    result = encrypted_rows_reencrypt(model=model, name_field=name_field)
    if result.unreadable:
        logger.error(
            "%s in schema %s: neither HERALD_ENCRYPTION_KEYS nor the old scheme "
            "(DJANGO_SECRET_KEY with HERALD_LEGACY_ENCRYPTION_SALTS) decrypts: %s. "
            "Left as they were; set the old values and run `manage.py rotate_secrets`.",
            label, schema_editor.connection.schema_name, ", ".join(result.unreadable),
        )


@dataclass(frozen=True)
class UnreadableValue:
    what: str
    # Readable under the old scheme: the upgrade has not run yet.
    legacy: bool


def _readable_legacy(field_, stored) -> bool:
    try:
        field_.stored_decrypt(stored, legacy=True)
    except SecretUnreadable:
        return False
    return True


# A process's start reads this many of the oldest tenants and as many of the
# newest: a key missing from HERALD_ENCRYPTION_KEYS shows in the oldest secrets
# (an old key dropped) or the newest (a wrong key set), and the start costs the
# same with 10 tenants or 10,000 (one query each). `manage.py check --database
# default` reads every tenant.
START_SAMPLE_EACH_END = 25


def encrypted_values_unreadable(*, sample_each_end: int | None = None) -> list[UnreadableValue]:
    """One value per tenant that no configured key decrypts, if any.

    Cheap by design: the tenants' link keys (on the shared table's rows) and
    one receiver's secrets per tenant schema; every tenant, or the oldest and
    newest `sample_each_end` of them.
    """
    from receivers.models import Receiver
    from tenants.models import Tenant

    found = []
    link_fields = encrypted_fields(Tenant)
    secrets_field = Receiver._meta.get_field("secrets")
    tenants = Tenant.objects.exclude(schema_name="public")
    if sample_each_end is not None:
        ids = {*tenants.order_by("id").values_list("id", flat=True)[:sample_each_end],
               *tenants.order_by("-id").values_list("id", flat=True)[:sample_each_end]}
        tenants = tenants.filter(id__in=ids)
    for tenant in tenants.order_by("slug"):
        for field_ in link_fields:
            if not encrypted_value_readable(tenant, field_.name):
                stored = tenant.__dict__[field_.attname].stored
                found.append(UnreadableValue(
                    f"tenant {tenant.slug}: {field_.name}", _readable_legacy(field_, stored)
                ))
        stored = _one_receivers_secrets(tenant.schema_name, database=tenant.database)
        if stored is None:
            continue
        try:
            secrets_field.stored_decrypt(stored)
        except SecretUnreadable:
            found.append(UnreadableValue(
                f"tenant {tenant.slug}: receivers' secrets", _readable_legacy(secrets_field, stored)
            ))
    return found


def _one_receivers_secrets(schema: str, *, database: str):
    table = f"{connection.ops.quote_name(schema)}.receivers_receiver"
    from tenants.databases import shared_connection

    # On the tenant's own database (tenants/databases.py), by its alias.
    on = shared_connection() if database == DEFAULT_DB_ALIAS else connections[database]
    try:
        with transaction.atomic(using=on.alias), on.cursor() as cursor:
            cursor.execute(
                f"SELECT secrets::text FROM {table} WHERE secrets::text <> '{{}}' LIMIT 1"  # noqa: S608
            )
            row = cursor.fetchone()
    except DatabaseError:
        return None  # a schema not migrated yet has no secrets to read
    return json.loads(row[0]) if row else None


def unreadable_explained(found: list[UnreadableValue]) -> str:
    lines = []
    for item in found:
        hint = (
            "encrypted under the old scheme: run `manage.py migrate` (or rotate_secrets)"
            if item.legacy
            else "restore the key that encrypted it to HERALD_ENCRYPTION_KEYS"
        )
        lines.append(f"{item.what} ({hint})")
    return "; ".join(lines)


def encryption_keys_verify() -> None:
    """At a process's start: refuse to run when the configured keys cannot read the secrets.

    Raises ImproperlyConfigured naming what is unreadable (never a value).
    """
    found = encrypted_values_unreadable(sample_each_end=START_SAMPLE_EACH_END)
    if found:
        raise ImproperlyConfigured(
            "No key in HERALD_ENCRYPTION_KEYS decrypts some stored secrets: "
            + unreadable_explained(found)
        )


def encryption_keys_verify_or_exit(**_) -> None:
    """encryption_keys_verify for a Celery worker: a signal's exception is only logged."""
    try:
        encryption_keys_verify()
    except ImproperlyConfigured as exc:
        logger.critical("%s", exc)
        raise SystemExit(f"Herald worker refuses to start: {exc}") from None
