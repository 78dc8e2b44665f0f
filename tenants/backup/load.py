"""Restoring a tenant backup into this Herald, under its slug or a new one.

The file is read twice: once to check it whole (MAC, framing, key) before
anything is written, then again inside ONE transaction that creates the
tenant, its schema (migrated), its shared rows and every table's rows, and
appends the restore entry to its audit chain. Any error rolls all of it
back, the schema included (PostgreSQL's DDL is transactional): nothing is
ever half-restored. Onto another database than the shared schema's
(`--database`, tenants/databases.py) it is two transactions, the schema's
committed first and dropped again if the shared rows' then fails. The audit
chain comes back verbatim and is bound by the restore entry
(alerting/audit/imported.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction
from django_tenants.utils import quote_schema_name, schema_context

from alerting.audit.heads.models import AuditCheckpoint
from alerting.audit.imported import DIGEST_START, RESTORE_ACTION, imported_digest_step
from alerting.audit.keys import audit_keys
from alerting.audit.models import AuditEntry
from alerting.audit.services import audit_record
from alerting.encryption import encrypt
from alerting.infra.tenant_databases import SHARED_ALIAS, tenant_database_aliases
from tenants.backup.format import (
    BackupError,
    BackupKeys,
    BackupReader,
    BackupSecret,
    BackupTampered,
    backup_verify,
)
from tenants.backup.schema import (
    schema_create_at,
    schema_migrate_forward,
    schema_sequences_reset,
)
from tenants.backup.tables import (
    TableShape,
    qualified,
    schema_migrations,
    schema_tables,
    table_shape,
)
from tenants.databases import database_pinned, schema_databases_forget, shared_connection
from tenants.due_ticks import due_work_reindex
from tenants.middleware import domain_cache_clear
from tenants.models import Domain, Tenant

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


@dataclass
class RestoreSummary:
    slug: str = ""
    schema_name: str = ""
    rows: int = 0
    secrets: int = 0
    audit_entries: int = 0
    users_created: list[str] = field(default_factory=list)
    keys_skipped: list[str] = field(default_factory=list)
    replaced: bool = False


def _insert(schema: str, table: str, row: dict[str, Any]) -> int:
    """One row through json_populate_record (PostgreSQL parses every type), new id."""
    columns = ", ".join(connection.ops.quote_name(c) for c in row if c != "id")
    target = qualified(schema, table)
    with (shared_connection() if schema == "public" else connection).cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} "  # noqa: S608
            f"FROM json_populate_record(NULL::{target}, %s::json) RETURNING id",
            [json.dumps(row)],
        )
        return cursor.fetchone()[0]


def _schema_name_free(base: str) -> str:
    # Checkpoints of a dropped schema stay (they are evidence): never reuse their name.
    for attempt in range(1, 100):
        name = base if attempt == 1 else f"{base}_r{attempt}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
            taken = cursor.fetchone() is not None
        if not taken and not AuditCheckpoint.objects.filter(schema_name=name).exists():
            return name
    raise BackupError(f"no free schema name for {base!r}")


class _Loader:
    def __init__(self, *, keys: BackupKeys, header: dict[str, Any], slug: str,
                 domain: str | None, actor: str, database: str) -> None:
        self.keys, self.header, self.slug, self.database = keys, header, slug, database
        self.domain, self.actor = domain, actor
        self.summary = RestoreSummary(slug=slug)
        self.users: dict[int, int] = {}
        self.tenant: Tenant | None = None
        self.shape: TableShape | None = None
        self.table_rows = 0
        self.tables: set[str] = set()

    # --- shared rows ---
    def _unseal(self, shape: TableShape, row: dict[str, Any]) -> None:
        for column, field_ in shape.encrypted.items():
            if row.get(column) is not None:
                row[column] = field_.tokens(row[column],
                                            lambda token: encrypt(self.keys.open_text(token)))
                self.summary.secrets += 1

    def shared(self, table: str, row: dict[str, Any]) -> None:
        handler = getattr(self, f"_shared_{table}", None)
        if handler is None:
            raise BackupTampered(f"unknown shared table {table!r} in the file")
        if table != "auth_user" and table != "tenants_tenant" and self.tenant is None:
            raise BackupTampered("the file names the tenant's rows before the tenant")
        handler(row)

    def _shared_auth_user(self, row: dict[str, Any]) -> None:
        users = get_user_model()
        found = users.objects.filter(username=row["username"]).values_list("id", flat=True)
        if found:
            self.users[row["id"]] = found[0]  # the same person here: keep their account
            return
        self.users[row["id"]] = _insert("public", "auth_user", {
            **row, "is_staff": False, "is_superuser": False,
        })
        self.summary.users_created.append(row["username"])

    def _shared_tenants_tenant(self, row: dict[str, Any]) -> None:
        if self.tenant is not None:
            raise BackupTampered("the file holds two tenants")
        schema = _schema_name_free(self.slug.replace("-", "_"))
        shape = TableShape("tenants_tenant", {
            f.attname: f for f in Tenant._meta.concrete_fields if hasattr(f, "tokens")
        })
        self._unseal(shape, row)
        # The schema is built on the database the restore names, wherever the
        # source tenant's lived (tenants/databases.py).
        tenant_id = _insert("public", "tenants_tenant", {
            **row, "slug": self.slug, "schema_name": schema, "database": self.database,
        })
        self.tenant = Tenant.objects.get(id=tenant_id)
        self.summary.schema_name = schema
        migrations = {tuple(m) for m in self.header.get("migrations", [])
                      if isinstance(m, list) and len(m) == 2}
        schema_create_at(schema=schema, migrations=migrations,
                         version=str(self.header.get("herald_version")))
        if {tuple(m) for m in schema_migrations(schema)} != migrations:
            raise BackupError("the backup's migrations do not form a state this Herald can "
                              "build (squashed or removed migrations?)")
        self._schema_prepare(schema)

    def _schema_prepare(self, schema: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in schema_tables(schema):
                # What the migrations seeded (content types...) gives way to the backup's.
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qualified(schema, table)})")  # noqa: S608
                if cursor.fetchone()[0]:
                    cursor.execute(f"DELETE FROM {qualified(schema, table)}")  # noqa: S608
                self.tables.add(table)

    def _shared_tenants_domain(self, row: dict[str, Any]) -> None:
        if self.domain is not None:
            if not Domain.objects.filter(tenant=self.tenant).exists():
                Domain.objects.create(tenant=self.tenant, domain=self.domain, is_primary=True)
            return
        taken = Domain.objects.filter(domain=row["domain"]).select_related("tenant").first()
        if taken is not None:
            raise BackupError(f"the domain {row['domain']} belongs to tenant "
                              f"{taken.tenant.slug}: give the restored tenant --domain")
        _insert("public", "tenants_domain", {**row, "tenant_id": self.tenant.id})

    def _key(self, table: str, row: dict[str, Any]) -> None:
        with shared_connection().cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {qualified('public', table)} WHERE key_hash = %s",  # noqa: S608
                           [row["key_hash"]])
            if cursor.fetchone() is not None:
                # The same key may not open two tenants: the copy gets new keys.
                self.summary.keys_skipped.append(f"{row['name']} ({row['prefix']}…)")
                return
        _insert("public", table, {**row, "tenant_id": self.tenant.id})

    def _shared_tenants_ingestkey(self, row: dict[str, Any]) -> None:
        self._key("tenants_ingestkey", row)

    def _shared_tenants_apitoken(self, row: dict[str, Any]) -> None:
        self._key("tenants_apitoken", row)

    def _shared_tenants_tenantmembership(self, row: dict[str, Any]) -> None:
        _insert("public", "tenants_tenantmembership",
                {**row, "tenant_id": self.tenant.id, "user_id": self._user(row["user_id"])})

    def _shared_audit_heads_auditcheckpoint(self, row: dict[str, Any]) -> None:
        # The source's checkpoints of the same entries: verify_audit_log matches them.
        _insert("public", "audit_heads_auditcheckpoint",
                {**row, "schema_name": self.tenant.schema_name, "tenant_slug": self.slug})

    def _user(self, user_id: int | None) -> int | None:
        if user_id is None:
            return None
        if user_id not in self.users:
            raise BackupTampered(f"a row names user #{user_id}, whom the file does not hold")
        return self.users[user_id]

    # --- the tenant's schema ---
    def table(self, name: str) -> None:
        if self.tenant is None:
            raise BackupTampered("the file holds tables before its tenant")
        if name not in self.tables:
            raise BackupError(f"table {name} of the backup does not exist in this Herald")
        self.shape, self.table_rows = table_shape(name), 0

    def rows(self, name: str, rows: list[dict[str, Any]]) -> None:
        if self.shape is None or self.shape.name != name or not isinstance(rows, list):
            raise BackupTampered("rows outside their table in the file")
        for row in rows:
            self._unseal(self.shape, row)
            for column in self.shape.user_columns:
                row[column] = self._user(row.get(column))
        target = qualified(self.tenant.schema_name, name)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {target} SELECT * FROM "  # noqa: S608
                f"json_populate_recordset(NULL::{target}, %s::json)",
                [json.dumps(rows)],
            )
        self.table_rows += len(rows)

    def table_end(self, name: str, count: Any) -> None:
        if self.shape is None or self.shape.name != name or count != self.table_rows:
            raise BackupTampered(f"table {name}: the row count does not match")
        self.summary.rows += count
        self.shape = None

    def finish(self) -> None:
        if self.tenant is None or self.shape is not None:
            raise BackupTampered("the file holds no complete tenant")
        schema = self.tenant.schema_name
        schema_sequences_reset(schema=schema)
        schema_migrate_forward(schema=schema)
        # The shared due-work index is derived, not copied: the restored tenant's
        # pending work (notifications, escalation steps) is indexed from its tables.
        due_work_reindex(tenant_ids=[self.tenant.id])
        with schema_context(schema):
            self._audit_restore_entry()
        audit_record(
            actor=self.actor, source="command", action="restore tenant",
            obj_type="tenants.tenant", obj_id=self.tenant.id, obj_repr=self.slug,
            after={"slug": self.slug, "schema": schema, "backup_tenant": self.header["tenant"],
                   "backup_created_at": self.header.get("created_at"),
                   "rows": self.summary.rows, "replaced": self.summary.replaced},
        )

    def _audit_restore_entry(self) -> None:
        digest, count, key_ids, head = DIGEST_START, 0, set(), None
        for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
            digest = imported_digest_step(digest=digest, entry=entry)
            count += 1
            if entry.key_id:
                key_ids.add(entry.key_id)
            head = entry
        self.summary.audit_entries = count
        audit_record(
            actor=self.actor, source="command", action=RESTORE_ACTION,
            obj_type="tenants.tenant", obj_id=self.tenant.id, obj_repr=self.slug,
            after={
                "backup_tenant": self.header["tenant"],
                "backup_created_at": self.header.get("created_at"),
                "backup_herald_version": self.header.get("herald_version"),
                "source_head": {"seq": head.seq, "mac": head.hash} if head else None,
                "imported_entries": count,
                "imported_digest": digest,
                # Keys of the source this Herald does not hold: verify_audit_log
                # accepts them only before this entry.
                "imported_key_ids": sorted(key_ids - set(audit_keys())),
                "replaced": self.summary.replaced,
            },
        )


def _replace(existing: Tenant, *, actor: str, summary: RestoreSummary) -> None:
    """Drop the tenant being replaced, saying so in the operators' chain first."""
    with schema_context(existing.schema_name):
        head = AuditEntry.objects.order_by("-id").values("seq", "hash").first()
    audit_record(
        actor=actor, source="command", action="replace tenant by restore",
        obj_type="tenants.tenant", obj_id=existing.id, obj_repr=existing.slug,
        before={"slug": existing.slug, "schema": existing.schema_name,
                "audit_head": head and {"seq": head["seq"], "mac": head["hash"]}},
    )
    with connection.cursor() as cursor:
        # Checks deferred earlier in this transaction run now: a table with pending
        # trigger events cannot be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    existing.delete(force_drop=True)
    summary.replaced = True


def tenant_restore(*, path: Path | str, secret: BackupSecret, slug: str | None = None,
                   replace: bool = False, domain: str | None = None,
                   actor: str = "manage.py", database: str = DEFAULT_DB_ALIAS) -> RestoreSummary:
    """Restore the backup at `path` onto `database`; BackupError (nothing written) when
    it cannot."""
    if database not in tenant_database_aliases():
        raise BackupError(f"no database {database!r} is configured (HERALD_TENANT_DATABASES)")
    with open(path, "rb") as stream:
        header = backup_verify(stream, secret=secret)
    target = slug or str(header.get("tenant", ""))
    if not SLUG.match(target):
        raise BackupError(f"{target!r} is not a valid tenant slug")
    existing = Tenant.objects.filter(slug=target).first()
    if existing is not None and not replace:
        raise BackupError(f"a tenant {target!r} exists already: restore under another "
                          "--slug, or give --replace to replace it")
    if existing is not None and DEFAULT_DB_ALIAS not in (existing.database, database):
        # Replacing spans two databases, which one transaction cannot hold.
        raise BackupError(f"tenant {target!r} lives on database {existing.database!r}: "
                          "restore under another --slug")
    if existing is not None and database != DEFAULT_DB_ALIAS:
        raise BackupError(f"a replacement is restored onto the database of {target!r}, "
                          f"{existing.database!r}: restore under another --slug")
    arguments = {"path": path, "secret": secret, "target": target, "existing": existing,
                 "domain": domain, "actor": actor, "database": database}
    try:
        if database == DEFAULT_DB_ALIAS:
            with transaction.atomic():
                summary = _restore_rows(**arguments)
        else:
            summary = _restore_elsewhere(**arguments)
    except DatabaseError as exc:
        # A row this Herald's tables refuse (a column it lacks, a slug taken meanwhile):
        # the transaction is rolled back, nothing stays.
        raise BackupError(f"the database refused the restore: {str(exc).splitlines()[0]}") from exc
    domain_cache_clear()
    schema_databases_forget()
    return summary


def _restore_elsewhere(*, database: str, **arguments) -> RestoreSummary:
    """Onto another database: the schema in one transaction there, the shared rows in one
    on the shared database. The schema's commits first; it is dropped again if the shared
    rows' commit then fails, so nothing stays half-restored."""
    committed: str | None = None
    try:
        with database_pinned(database), transaction.atomic(using=SHARED_ALIAS):
            with transaction.atomic():
                summary = _restore_rows(database=database, **arguments)
            committed = summary.schema_name
    except BaseException:
        if committed:
            with database_pinned(database) as tenant_db, tenant_db.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {quote_schema_name(committed)} CASCADE")
        raise
    return summary


def _restore_rows(*, path, secret, target, existing, domain, actor, database) -> RestoreSummary:
    """Everything a restore writes, in the transactions the caller opened."""
    with schema_context("public"):
        summary = RestoreSummary()
        if existing is not None:
            _replace(existing, actor=actor, summary=summary)
        with open(path, "rb") as stream:
            reader = BackupReader(stream, secret=secret)
            loader = _Loader(keys=reader.keys, header=reader.header, slug=target,
                             domain=domain, actor=actor, database=database)
            loader.summary.replaced = summary.replaced
            for record in reader:
                kind = record.get("k")
                if kind == "shared":
                    loader.shared(str(record.get("table")), record.get("row") or {})
                elif kind == "table":
                    loader.table(str(record.get("name")))
                elif kind == "rows":
                    loader.rows(str(record.get("name")), record.get("rows"))
                elif kind == "table_end":
                    loader.table_end(str(record.get("name")), record.get("rows"))
                else:
                    raise BackupTampered(f"unknown record {kind!r} in the file")
            loader.finish()
    return loader.summary
