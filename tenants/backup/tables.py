"""What a tenant backup holds, table by table: shared by the dump and the restore.

Every table of the tenant's schema is copied as it is (rows as PostgreSQL's
row_to_json gives them, loaded back with json_populate_recordset, so every
column type round-trips), except the tables below that PostgreSQL or the
migrations rebuild. Columns of Herald's encrypted fields are re-sealed with
the file's key; columns that point at shared users are mapped by username.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from alerting.fields import encrypted_fields

# Rebuilt, not copied: the migration state (recorded in the header instead), the
# configuration version that triggers bump on every write (alerting 0006), and
# the reports' rollups, which triggers rebuild as the rows are loaded (reports 0003).
DERIVED_TABLES = frozenset({"django_migrations", "alerting_config_version",
                            "reports_receiver_incident", "reports_route_incident"})
# The shared rows of a tenant, in the order they are written and restored.
USER_COLUMNS = ("username", "email", "first_name", "last_name", "password", "is_active",
                "date_joined")
ROWS_PER_RECORD = 500


@dataclass
class TableShape:
    name: str
    encrypted: dict[str, Any] = field(default_factory=dict)  # column -> field
    user_columns: tuple[str, ...] = ()


def _tenant_models() -> dict[str, Any]:
    names = set(settings.TENANT_APPS)
    found = {}
    for config in apps.get_app_configs():
        if config.name not in names:
            continue
        for model in config.get_models(include_auto_created=True):
            if not model._meta.proxy and not model._meta.abstract:
                found[model._meta.db_table] = model
    return found


def table_shape(name: str) -> TableShape:
    model = _tenant_models().get(name)
    if model is None:
        return TableShape(name)
    user_model = get_user_model()
    users = tuple(
        f.attname for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is user_model
    )
    return TableShape(name, {f.attname: f for f in encrypted_fields(model)}, users)


def schema_tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
        )
        return [name for (name,) in cursor.fetchall() if name not in DERIVED_TABLES]


def schema_migrations(schema: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT app, name FROM {qualified(schema, "django_migrations")} ORDER BY app, name'  # noqa: S608
        )
        return [list(row) for row in cursor.fetchall()]


def qualified(schema: str, table: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(schema)}.{quote(table)}"
