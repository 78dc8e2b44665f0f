"""Writing one tenant's backup: its schema's tables and its shared rows, in one snapshot.

The whole dump reads inside one REPEATABLE READ, READ ONLY transaction, so
the file is one consistent moment of the tenant even while it takes alerts.
(A tenant on another database than the shared schema's, tenants/databases.py:
its schema in that snapshot, its few shared rows read beside it.)
Tables are streamed through a server-side cursor (bounded memory). Nothing
is written to the database: the source tenant is untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.encryption import SecretUnreadable, decrypt
from tenants.backup.format import BackupError, BackupKeys, BackupSecret, BackupWriter
from tenants.backup.tables import (
    ROWS_PER_RECORD,
    USER_COLUMNS,
    TableShape,
    qualified,
    schema_migrations,
    schema_tables,
    table_shape,
)
from tenants.databases import shared_connection
from tenants.models import Tenant


@dataclass
class BackupSummary:
    tables: int = 0
    rows: int = 0
    secrets: int = 0
    audit_entries: int = 0


def herald_version() -> str:
    try:
        return version("herald")
    except PackageNotFoundError:
        return "unknown"


def _reseal(shape: TableShape, row: dict[str, Any], keys: BackupKeys, summary) -> None:
    """Herald's Fernet tokens in `row` -> the file's tokens (never the clear value)."""
    for column, field_ in shape.encrypted.items():
        if row.get(column) is None:
            continue

        def change(token: str) -> str:
            summary.secrets += 1
            return keys.seal_text(decrypt(token))

        try:
            row[column] = field_.tokens(row[column], change)
        except SecretUnreadable as exc:
            raise BackupError(
                f"{shape.name} #{row.get('id')}: {column} cannot be decrypted with "
                "HERALD_ENCRYPTION_KEYS; fix the keys (README, key rotation) and back up again"
            ) from exc


def _rows(sql: str, params: list[Any], *, shared: bool = False):
    # A server-side cursor: a table of millions of rows costs one batch of memory.
    with (shared_connection() if shared else connection).chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(ROWS_PER_RECORD):
            yield [json.loads(text) for (text,) in batch]


def _shared(writer: BackupWriter, table: str, where: str, params: list[Any]) -> list[dict]:
    rows = [
        row for batch in _rows(
            f"SELECT row_to_json(t)::text FROM {qualified('public', table)} AS t "  # noqa: S608
            f"WHERE {where} ORDER BY t.id", params, shared=True,
        ) for row in batch
    ]
    for row in rows:
        writer.record({"k": "shared", "table": table, "row": row})
    return rows


def _user_ids(schema: str, tenant: Tenant) -> set[int]:
    ids = set(tenant.memberships.values_list("user_id", flat=True))
    with connection.cursor() as cursor:
        for table in schema_tables(schema):
            for column in table_shape(table).user_columns:
                cursor.execute(
                    f"SELECT DISTINCT {connection.ops.quote_name(column)} "  # noqa: S608
                    f"FROM {qualified(schema, table)} WHERE {connection.ops.quote_name(column)}"
                    " IS NOT NULL"
                )
                ids.update(user_id for (user_id,) in cursor.fetchall())
    return ids


def tenant_backup(*, tenant: Tenant, out: IO[bytes], secret: BackupSecret,
                  now: datetime | None = None, scrypt_n: int | None = None) -> BackupSummary:
    """Write `tenant`'s backup to `out`; secrets sealed with `secret`, never in clear."""
    with tenant_context(tenant):  # on the database that holds its schema
        return _dump(tenant, out=out, secret=secret, now=now, scrypt_n=scrypt_n,
                     outermost=not connection.in_atomic_block)


def _dump(tenant: Tenant, *, out: IO[bytes], secret: BackupSecret, now: datetime | None,
          scrypt_n: int | None, outermost: bool) -> BackupSummary:
    summary = BackupSummary()
    schema = tenant.schema_name
    with transaction.atomic():
        if outermost:  # inside a caller's transaction (tests), that one is the snapshot
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        tables = schema_tables(schema)
        header = {
            "herald_version": herald_version(),
            "tenant": tenant.slug,
            "tenant_name": tenant.name,
            "created_at": (now or timezone.now()).isoformat(),
            "migrations": schema_migrations(schema),
            "tables": tables,
        }
        extra = {"scrypt_n": scrypt_n} if scrypt_n else {}
        writer = BackupWriter(out, header=header, secret=secret, **extra)
        user_ids = sorted(_user_ids(schema, tenant))
        pairs = ", ".join(f"'{column}', {column}" for column in ("id", *USER_COLUMNS))
        for batch in _rows(
            f"SELECT json_build_object({pairs})::text FROM public.auth_user "  # noqa: S608
            "WHERE id = ANY(%s) ORDER BY id", [user_ids], shared=True,
        ):
            for row in batch:
                writer.record({"k": "shared", "table": "auth_user", "row": row})
        shape = TableShape("tenants_tenant", {
            f.attname: f for f in Tenant._meta.concrete_fields if hasattr(f, "tokens")
        })
        for batch in _rows(
            "SELECT row_to_json(t)::text FROM public.tenants_tenant AS t WHERE id = %s",
            [tenant.id], shared=True,
        ):
            for row in batch:
                _reseal(shape, row, writer.keys, summary)
                writer.record({"k": "shared", "table": "tenants_tenant", "row": row})
        for table in ("tenants_domain", "tenants_ingestkey", "tenants_apitoken",
                      "tenants_tenantmembership"):
            _shared(writer, table, "t.tenant_id = %s", [tenant.id])
        _shared(writer, "audit_heads_auditcheckpoint", "t.schema_name = %s", [schema])
        for table in tables:
            shape = table_shape(table)
            count = 0
            writer.record({"k": "table", "name": table})
            for rows in _rows(
                f"SELECT row_to_json(t)::text FROM {qualified(schema, table)} AS t",  # noqa: S608
                [],
            ):
                for row in rows:
                    _reseal(shape, row, writer.keys, summary)
                writer.record({"k": "rows", "name": table, "rows": rows})
                count += len(rows)
            writer.record({"k": "table_end", "name": table, "rows": count})
            summary.tables += 1
            summary.rows += count
            if table == "audit_auditentry":
                summary.audit_entries = count
        writer.close()
    return summary
