"""A restored tenant's schema: migrated to the backup's state, loaded, then migrated on.

A backup records its schema's migrations. The restore builds the schema at
exactly that state, so every table has the columns the rows were dumped
with; once the rows are in, the schema is migrated to this Herald's latest,
data migrations included, as an upgrade would have done to the source. A
backup with migrations this Herald does not know comes from a newer Herald
and is refused.
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tenants.backup.format import BackupTooNew
from tenants.backup.tables import qualified


def _per_app_leaves(graph, applied: set[tuple[str, str]]) -> list[tuple[str, str]]:
    leaves = []
    for node in sorted(applied):
        children = graph.node_map[node].children
        if not any(child in applied and child[0] == node[0] for child in children):
            leaves.append(node)
    return leaves


def schema_create_at(*, schema: str, migrations: set[tuple[str, str]], version: str) -> None:
    """Create `schema` and migrate it to exactly the backup's `migrations`."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(schema)}")
    connection.set_schema(schema)
    try:
        executor = MigrationExecutor(connection)
        graph = executor.loader.graph
        unknown = sorted(node for node in migrations if node not in graph.nodes)
        if unknown:
            names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
            raise BackupTooNew(f"the backup was made by a newer Herald ({version}): this one "
                               f"lacks migrations {names}; upgrade Herald first")
        executor.migrate(_per_app_leaves(graph, migrations))
    finally:
        connection.set_schema_to_public()


def schema_migrate_forward(*, schema: str) -> None:
    """Apply this Herald's migrations the backup did not have."""
    connection.set_schema(schema)
    try:
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        if executor.migration_plan(targets):  # building the project state costs seconds
            executor.migrate(targets)
    finally:
        connection.set_schema_to_public()


def schema_sequences_reset(*, schema: str) -> None:
    """Each sequence of `schema` continues after the largest id its table holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, a.attname, s.relname FROM pg_class s "
            "JOIN pg_namespace n ON n.oid = s.relnamespace "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "WHERE s.relkind = 'S' AND n.nspname = %s", [schema],
        )
        for table, column, sequence in cursor.fetchall():
            quote = connection.ops.quote_name
            cursor.execute(
                f"SELECT setval(%s, COALESCE(max({quote(column)}), 0) + 1, false) "  # noqa: S608
                f"FROM {qualified(schema, table)}", [f"{quote(schema)}.{quote(sequence)}"],
            )
