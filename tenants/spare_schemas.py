"""Spare tenant schemas cloned ahead of time, so a new tenant costs a rename (issue 22).

Cloning the template (tenants/schema_clone.py) is about 270 DDL statements
that create some 230 relations: hundreds of milliseconds, whatever the
statements' shape, because each relation costs PostgreSQL about a millisecond.
Renaming a schema costs about one. So the workers keep
`HERALD_TENANT_SPARE_SCHEMAS` clones ready (`spare_schemas_fill`, a Celery
task enqueued after each tenant creation and run by beat), and
`tenants.services.tenant_create` claims one and renames it in its own
transaction (`spare_schema_claim`), cloning only when none is free.

- A spare is named `herald_spare_<random>` and listed in the shared table
  `tenants_spareschema` with the template's migration state it was cloned at.
  It has no Tenant row, so nothing that walks tenants (migrate_schemas, the
  due-work ticks, backups, the admin) sees it.
- The claim is `DELETE ... FOR UPDATE SKIP LOCKED` of one row, then
  `ALTER SCHEMA ... RENAME TO`, both in the caller's transaction: two
  creations never get the same spare, and a failure puts it back.
- A spare cloned from an older template (the template is migrated when the
  code has migrations it has not applied) is never claimed; the next fill
  drops it.
- Renaming keeps every object's identity (tables, sequences, foreign keys
  and triggers refer to each other by oid), but not a schema name written
  into a function's text or settings. The template's functions name their
  schema through TG_TABLE_SCHEMA; `spare_schema_prepare` refuses to pool a
  clone whose functions spell out its own name.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import connection, transaction

from tenants.models_spare import SpareSchema
from tenants.schema_clone import (
    schema_clone_from_template,
    template_schema_current,
    template_schema_ensure,
)

logger = logging.getLogger(__name__)

SPARE_PREFIX = "herald_spare_"
# Serialises the fills' bookkeeping, not their clones (a constant key of our own,
# beside schema_clone's).
_FILL_LOCK = 0x48455242  # "HERB"

# Functions of a spare whose text or settings spell out the spare's name would
# point at a schema that no longer exists once it is renamed.
_NAME_BAKED_IN = """
SELECT p.proname FROM pg_proc p
WHERE p.pronamespace = %(schema)s::regnamespace
  AND (strpos(p.prosrc, %(schema)s) > 0
       OR strpos(coalesce(array_to_string(p.proconfig, ' '), ''), %(schema)s) > 0)
ORDER BY p.proname
"""


def spare_schemas_enabled() -> bool:
    return settings.HERALD_TENANT_SCHEMA_CLONE and settings.HERALD_TENANT_SPARE_SCHEMAS > 0


def _fresh(applied: tuple[int, int]):
    return SpareSchema.objects.filter(template_migrations=applied[0],
                                      template_last_migration=applied[1])


def spare_schema_claim(*, schema_name: str) -> bool:
    """Rename a spare of the current template to `schema_name`; False when none is free.

    In the caller's transaction (the spare comes back if it rolls back). The
    caller has brought the template up to date (`template_schema_ensure`).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("spare_schema_claim runs inside the creating transaction")
    if not schema_name.isidentifier() or schema_name != schema_name.lower():
        raise ValueError(f"not a plain schema name: {schema_name!r}")
    applied = template_schema_current()
    if applied is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tenants_spareschema WHERE id = ("
            " SELECT id FROM tenants_spareschema"
            " WHERE template_migrations = %s AND template_last_migration = %s"
            " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING schema_name",
            list(applied),
        )
        row = cursor.fetchone()
        if row is None:
            return False
        # Both names are plain identifiers: ours, and the one checked above.
        cursor.execute(f'ALTER SCHEMA "{row[0]}" RENAME TO "{schema_name}"')
    logger.info("spare schema %s claimed as %s", row[0], schema_name)
    return True


def spare_schema_prepare() -> str | None:
    """Clone one spare, unless enough fresh ones exist; its name, or None.

    One transaction per spare. The clone (hundreds of milliseconds) runs
    outside the fill lock, so several workers prepare spares in parallel;
    the lock is taken only for the count and the row, after the clone, and
    held to the commit, so concurrent fills never pool more than the setting
    asks for. A fill that finds the pool full by then rolls its clone back
    (at most one wasted clone per concurrent fill, when they race for the
    last place); one that finds it full before cloning does not clone.
    """
    applied = template_schema_ensure()  # outside the transaction, as tenant_create does
    if _fresh(applied).count() >= settings.HERALD_TENANT_SPARE_SCHEMAS:
        return None
    with transaction.atomic():
        name = SPARE_PREFIX + secrets.token_hex(8)
        schema_clone_from_template(schema_name=name)
        with connection.cursor() as cursor:
            cursor.execute(_NAME_BAKED_IN, {"schema": name})
            baked = [row[0] for row in cursor.fetchall()]
        if baked:
            # The clone is rolled back with this block: tenants are cloned instead.
            logger.warning("no spare schemas: functions %s name their own schema", baked)
            transaction.set_rollback(True)
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FILL_LOCK])
        # A statement after the lock: it sees every spare committed under it.
        if _fresh(applied).count() >= settings.HERALD_TENANT_SPARE_SCHEMAS:
            transaction.set_rollback(True)
            return None
        SpareSchema.objects.create(schema_name=name, template_migrations=applied[0],
                                   template_last_migration=applied[1])
    logger.info("spare schema %s prepared", name)
    return name


def spare_schemas_drop_unusable() -> int:
    """Drop stale spares, spares beyond the setting, and spare schemas nobody lists.

    One transaction per schema: dropping one locks its couple of hundred
    relations, and many at once would exhaust the lock table. A spare being
    claimed (its row locked) is skipped.

    A schema named like a spare with no row cannot come from a crash (the two
    are made in one transaction), only from rows deleted by hand or a flush of
    the shared tables (tests). It is no tenant's: tenant_create refuses slugs
    that would take the prefix, and tenants' schemas are excluded anyway.
    """
    applied = template_schema_current()
    keep = settings.HERALD_TENANT_SPARE_SCHEMAS if spare_schemas_enabled() else 0
    fresh = [] if applied is None else list(
        _fresh(applied).order_by("id").values_list("id", flat=True)[:keep])
    dropped = 0
    for spare_id in SpareSchema.objects.exclude(id__in=fresh).values_list("id", flat=True):
        with transaction.atomic():
            spare = (SpareSchema.objects.filter(id=spare_id)
                     .select_for_update(skip_locked=True).first())
            if spare is None:  # claimed, or another fill drops it
                continue
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
            spare.delete()
            dropped += 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)"
            " AND nspname NOT IN (SELECT schema_name FROM tenants_spareschema)"
            " AND nspname NOT IN (SELECT schema_name FROM tenants_tenant)",
            [SPARE_PREFIX],
        )
        orphans = [row[0] for row in cursor.fetchall()]
    for schema in orphans:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            dropped += 1
    if dropped:
        logger.info("%d spare schemas dropped", dropped)
    return dropped


def spare_schemas_fill() -> int:
    """Drop what cannot be handed out, then prepare spares up to the setting; how many made."""
    spare_schemas_drop_unusable()
    made = 0
    while spare_schemas_enabled() and spare_schema_prepare() is not None:
        made += 1
    return made


def spare_schemas_count() -> int:
    """Spares of the current template, ready to be claimed."""
    applied = template_schema_current()
    return 0 if applied is None else _fresh(applied).count()
