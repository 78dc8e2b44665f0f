"""A new tenant's schema as a copy of a migrated template schema (issue 22).

Migrating a schema costs about half a second (every migration is loaded and
applied); copying one costs a few tens of milliseconds. The template
(`TEMPLATE_SCHEMA`) is an ordinary schema migrated with `migrate_schemas`;
its structure is read once per process from the catalogs and replayed, in one
round trip, under the new schema's name:

- functions (trigger functions) first, then each table with
  `CREATE TABLE ... (LIKE template.t INCLUDING ...)` (columns, defaults,
  identity columns with their own sequences, CHECK constraints, storage,
  comments);
- the template's rows (django_migrations, content types, singleton rows the
  migrations wrote) and each sequence's position;
- primary keys, unique and exclusion constraints and indexes under their
  template names (Django's later migrations refer to them by name), then
  foreign keys, then triggers.

django-tenants' own clone (`clone_schema`, pg-clone-schema) does the same in
PL/pgSQL but re-reads the catalogs for every object: tens of seconds a schema
on a busy machine. The template is rebuilt when the code has migrations it
has not applied (a deploy): `template_schema_ensure`, which
`tenants.services.tenant_create` calls and `migrate_schemas` runs last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

logger = logging.getLogger(__name__)

TEMPLATE_SCHEMA = "herald_tenant_template"
_DST = "__herald_new_schema__"
# Serialises template builds across processes (any constant key of our own).
_TEMPLATE_LOCK = 0x48455241  # "HERA"


@dataclass(frozen=True)
class _Plan:
    applied: tuple[int, int]  # the template's django_migrations (count, max id) it was read at
    sql: str  # every statement, the new schema's name as _DST


_plan: _Plan | None = None
_code_migrations: int | None = None


def _code_migration_count() -> int:
    """How many migrations the code has (once per process: loading them is the slow part)."""
    global _code_migrations
    if _code_migrations is None:
        _code_migrations = len(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return _code_migrations


def _template_applied() -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{TEMPLATE_SCHEMA}.django_migrations"])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(
            f"SELECT count(*), coalesce(max(id), 0) FROM {TEMPLATE_SCHEMA}.django_migrations"  # noqa: S608 - a constant
        )
        count, last = cursor.fetchone()
        return int(count), int(last)


def template_schema_current() -> tuple[int, int] | None:
    """The template's migration state when it has every migration the code has, else None."""
    applied = _template_applied()
    if applied is None or applied[0] < _code_migration_count():
        return None
    return applied


def template_schema_ensure(*, verbosity: int = 0) -> tuple[int, int]:
    """Create or migrate the template until it has every migration the code has."""
    applied = template_schema_current()
    if applied is not None:
        return applied
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TEMPLATE_LOCK])
            applied = _template_applied()  # another process may have just built it
            if applied is not None and applied[0] >= _code_migration_count():
                return applied
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {TEMPLATE_SCHEMA}")
        call_command("migrate_schemas", tenant=True, schema_name=TEMPLATE_SCHEMA,
                     interactive=False, verbosity=verbosity)
        connection.set_schema_to_public()
    logger.info("tenant template schema migrated")
    return _template_applied() or (0, 0)


# Read with search_path = pg_catalog, so every name the definitions print is
# schema-qualified and the template's own can be swapped for the new one's.
_FUNCTIONS = """
SELECT pg_get_functiondef(p.oid) FROM pg_proc p
WHERE p.pronamespace = %(src)s::regnamespace AND p.prokind = 'f' ORDER BY p.proname
"""
_TABLES = """
SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                                      AND a.attgenerated <> '')
FROM pg_class c WHERE c.relnamespace = %(src)s::regnamespace AND c.relkind = 'r'
ORDER BY c.relname
"""
_SEQUENCES = """
SELECT s.relname, t.relname, a.attname
FROM pg_class s
LEFT JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('i', 'a')
     AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE s.relnamespace = %(src)s::regnamespace AND s.relkind = 'S'
ORDER BY s.relname
"""
_CONSTRAINTS = """
SELECT t.relname, co.conname, pg_get_constraintdef(co.oid), co.contype
FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid
WHERE co.connamespace = %(src)s::regnamespace AND co.contype IN ('p', 'u', 'x', 'f')
ORDER BY co.contype = 'f', t.relname, co.conname
"""
_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = %(src)s::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid
                  AND co.contype IN ('p', 'u', 'x'))
ORDER BY c.relname
"""
_TRIGGERS = """
SELECT pg_get_triggerdef(tg.oid) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
WHERE c.relnamespace = %(src)s::regnamespace AND NOT tg.tgisinternal
ORDER BY c.relname, tg.tgname
"""
_LIKE = ("INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING CONSTRAINTS "
         "INCLUDING STORAGE INCLUDING COMMENTS")


def _q(name: str) -> str:
    """A catalog name as a quoted identifier (names here come from pg_class, not from users)."""
    return '"' + name.replace('"', '""') + '"'


def _plan_read(src: str) -> str:
    """Every statement that makes a copy of `src`, the copy's name as _DST."""
    def swap(definition: str) -> str:
        return definition.replace(f"{src}.", f"{_DST}.")

    statements = [f"CREATE SCHEMA {_DST}"]
    with transaction.atomic(), connection.cursor() as cursor:
        # Not SET LOCAL: inside a caller's transaction it would outlive this
        # block; the caller's search_path is put back at the end.
        cursor.execute("SELECT current_setting('search_path')")
        caller_path = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('search_path', 'pg_catalog', true)")
        try:
            statements += _statements_read(cursor, src, swap)
        finally:
            cursor.execute("SELECT set_config('search_path', %s, true)", [caller_path])
    return ";\n".join(statements)


def _statements_read(cursor, src: str, swap: Callable[[str], str]) -> list[str]:
    params = {"src": src}
    statements: list[str] = []
    cursor.execute(_FUNCTIONS, params)
    statements += [swap(row[0]) for row in cursor.fetchall()]
    cursor.execute(_TABLES, params)
    tables = cursor.fetchall()
    statements += [f"CREATE TABLE {_DST}.{_q(name)} (LIKE {src}.{_q(name)} {_LIKE})"
                   for name, _ in tables]
    for name, generated in tables:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {src}.{_q(name)})")  # noqa: S608
        if cursor.fetchone()[0]:
            columns = "*" if not generated else _stored_columns(cursor, src, name)
            statements.append(
                f"INSERT INTO {_DST}.{_q(name)} OVERRIDING SYSTEM VALUE "  # noqa: S608
                f"SELECT {columns} FROM {src}.{_q(name)}"
            )
    cursor.execute(_SEQUENCES, params)
    for sequence, table, column in cursor.fetchall():
        cursor.execute(f"SELECT last_value, is_called FROM {src}.{_q(sequence)}")  # noqa: S608
        last_value, is_called = cursor.fetchone()
        if table is None:  # a sequence of its own, not a column's
            statements.append(f"CREATE SEQUENCE {_DST}.{_q(sequence)}")
            target = f"'{_DST}.{_q(sequence)}'"
        else:
            target = f"pg_get_serial_sequence('{_DST}.{_q(table)}', '{column}')"
        if is_called:
            statements.append(f"SELECT setval({target}, {int(last_value)}, true)")
    cursor.execute(_CONSTRAINTS, params)
    statements += [
        f"ALTER TABLE {_DST}.{_q(table)} ADD CONSTRAINT {_q(name)} {swap(definition)}"
        for table, name, definition, _ in cursor.fetchall()
    ]
    cursor.execute(_INDEXES, params)
    statements += [swap(row[0]) for row in cursor.fetchall()]
    cursor.execute(_TRIGGERS, params)
    statements += [swap(row[0]) for row in cursor.fetchall()]
    return statements


def _stored_columns(cursor, src: str, table: str) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
        [f"{src}.{table}"],
    )
    return cursor.fetchone()[0]


def schema_clone_from_template(*, schema_name: str) -> None:
    """Create `schema_name` as a copy of the (migrated) template, in one round trip."""
    global _plan
    applied = template_schema_ensure()
    if _plan is None or _plan.applied != applied:
        _plan = _Plan(applied=applied, sql=_plan_read(TEMPLATE_SCHEMA))
    if not schema_name.isidentifier() or schema_name != schema_name.lower():
        raise ValueError(f"not a plain schema name: {schema_name!r}")
    with connection.cursor() as cursor:
        cursor.execute(_plan.sql.replace(_DST, schema_name))
