"""Which PostgreSQL database holds a tenant's schema, and the thread's connection bound to it.

Herald's code runs SQL on `django.db.connection` (the ORM's `default`, and raw
SQL in many modules), and selects a tenant with django-tenants'
`connection.set_tenant` (the middleware, the ingest key, Celery's task
prologue, `tenant_context`/`schema_context`). So a tenant's database is chosen
in that one place: `connection_bind`, called by django-tenants at every
`set_tenant` (settings.EXTRA_SET_TENANT_METHOD_PATH), rebinds the thread's
`connections["default"]` to the wrapper of the tenant's database. Everything
after it (raw SQL, the ORM, `transaction.atomic()`, `on_commit`) follows,
until the next `set_tenant` binds it back; selecting the public schema binds
the shared one.

While bound elsewhere, the shared schema's models (tenants, domains, users,
keys, memberships) are read and written through `SHARED_ALIAS`, the same
wrapper `default` was before (`SharedSchemaRouter`), and raw SQL on shared
tables takes `shared_connection()`. Bound to the shared database, both are
`default` itself, so one database behaves exactly as before.

A switch of database inside an open transaction is refused: the writes after
it would commit on their own, outside the transaction that was meant to hold
them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

from alerting.infra.tenant_databases import SHARED_ALIAS, tenant_database_aliases

# How long a schema's database, looked up by name, is trusted: a tenant moves
# between databases by backup and restore, seldom.
_LOOKUP_TTL_SECONDS = 30.0
_by_schema: dict[str, tuple[str | None, float]] = {}
_pinned = threading.local()
_binding = threading.local()


def bound_elsewhere() -> bool:
    """Whether this thread's connection is bound to a database other than the shared one."""
    return SHARED_ALIAS in settings.DATABASES and (
        connections[DEFAULT_DB_ALIAS].alias != DEFAULT_DB_ALIAS
    )


def shared_connection() -> BaseDatabaseWrapper:
    """The shared schema's connection, for raw SQL on its tables from any tenant's context."""
    return connections[SHARED_ALIAS if bound_elsewhere() else DEFAULT_DB_ALIAS]


def connection_bind(wrapper: BaseDatabaseWrapper, tenant) -> None:
    """django-tenants' hook at every `set_tenant`: bind `default` to the tenant's database.

    It acts on the thread's `default`, and on any wrapper that was the thread's
    `default` before: `tenant_context` and `schema_context` hold the wrapper that
    was `default` when they began and restore the previous tenant on it, which
    must bind the thread back. A wrapper only ever used by its own alias
    (`migrate_schemas --database eu`) is left alone.
    """
    if SHARED_ALIAS not in settings.DATABASES or getattr(_binding, "active", False):
        return  # one database, or the switch below selecting on the wrappers it moves
    current = _thread_default()
    if current is None:
        return  # the thread's first wrapper, selecting public from its constructor
    if wrapper is not current and not getattr(wrapper, "herald_was_default", False):
        return
    current.herald_was_default = True
    target_alias = _database_of(tenant, current=current.alias)
    if target_alias == current.alias and wrapper is current:
        return
    if current.alias == DEFAULT_DB_ALIAS:
        connections[SHARED_ALIAS] = current  # the shared schema's, whatever default is bound to
    target = connections[SHARED_ALIAS if target_alias == DEFAULT_DB_ALIAS else target_alias]
    if target is not current and current.in_atomic_block:
        raise TransactionManagementError(
            f"schema {tenant.schema_name!r} lives on database {target_alias!r}: leave the"
            f" transaction on {current.alias!r} before selecting it"
        )
    _binding.active = True
    try:
        connections[DEFAULT_DB_ALIAS] = target
        target.herald_was_default = True
        if target is not wrapper:
            target.set_tenant(tenant, include_public=wrapper.include_public_schema)
        if target_alias != DEFAULT_DB_ALIAS:
            # The shared database's wrapper searches only the shared schema meanwhile.
            connections[SHARED_ALIAS].set_schema_to_public()
    finally:
        _binding.active = False


def _thread_default() -> BaseDatabaseWrapper | None:
    """The thread's `default` wrapper, without making one: a new wrapper selects the
    public schema from its constructor, before the handler holds it."""
    return getattr(connections._connections, DEFAULT_DB_ALIAS, None)


@contextmanager
def database_pinned(alias: str) -> Iterator[BaseDatabaseWrapper]:
    """Bind this thread's connection to `alias` (public schema first), whatever is selected.

    For what works on a database before its tenant exists: its template schema,
    a new tenant's clone. Selecting any schema inside stays on `alias`; one whose
    tenant lives elsewhere is refused.
    """
    if alias not in tenant_database_aliases():
        raise ValueError(f"no database {alias!r} (HERALD_TENANT_DATABASES)")
    if getattr(_pinned, "alias", None) is not None:
        raise RuntimeError("database_pinned does not nest")
    connection.set_schema_to_public()  # on the shared database, outside any pin
    _pinned.alias = alias
    try:
        connection.set_schema_to_public()  # binds `alias`
        yield connection
    finally:
        _pinned.alias = None
        connection.set_schema_to_public()


def _database_of(tenant, *, current: str) -> str:
    pinned = getattr(_pinned, "alias", None)
    own = getattr(tenant, "database", None)  # a Tenant row knows; django-tenants' FakeTenant not
    if pinned is not None:
        if own not in (None, pinned):
            raise TransactionManagementError(
                f"tenant {tenant.schema_name!r} lives on {own!r}, not on the pinned {pinned!r}"
            )
        return pinned
    if own is not None:
        return own
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return DEFAULT_DB_ALIAS
    # A schema selected by name: its tenant's database; Herald's own schemas
    # (template, spares) stay on the database selected already.
    return _database_of_schema(tenant.schema_name) or current


def schema_databases_forget() -> None:
    """Forget the databases of schemas looked up by name (after a tenant moved)."""
    _by_schema.clear()


def _database_of_schema(schema_name: str) -> str | None:
    found = _by_schema.get(schema_name)
    if found is not None and found[1] > time.monotonic():
        return found[0]
    tenant_model = apps.get_model(settings.TENANT_MODEL)
    database = (
        tenant_model.objects.using(SHARED_ALIAS if bound_elsewhere() else DEFAULT_DB_ALIAS)
        .filter(schema_name=schema_name)
        .values_list("database", flat=True)
        .first()
    )
    _by_schema[schema_name] = (database, time.monotonic() + _LOOKUP_TTL_SECONDS)
    return database


class SharedSchemaRouter:
    """The shared schema's models go to its database while a thread is bound elsewhere;
    each tenant database is migrated as `default` is."""

    _shared_only: frozenset[str] | None = None

    def db_for_read(self, model, **hints) -> str | None:
        if not bound_elsewhere():
            return None
        if model._meta.app_label in self._labels():
            return SHARED_ALIAS
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        """Rows read through `default` and through the alias it is bound to are one database's."""
        first, second = obj1._state.db, obj2._state.db
        if first and second and first != second and connections[first] is connections[second]:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        """A tenant database migrates as `default` does: its public schema the shared apps,
        a tenant's (or the template's) schema the tenant apps. django-tenants' router
        refuses every alias but `default`, and a migration asks by its wrapper's alias."""
        if db == SHARED_ALIAS:
            return False  # the shared database, under a second name: migrated as `default`
        if db == DEFAULT_DB_ALIAS or db not in settings.DATABASES:
            return None
        public = connections[db].schema_name == settings.PUBLIC_SCHEMA_NAME
        installed = settings.SHARED_APPS if public else settings.TENANT_APPS
        config = apps.get_app_config(app_label)
        return config.name in installed or _entry_of(config) in installed

    def _labels(self) -> frozenset[str]:
        if SharedSchemaRouter._shared_only is None:
            tenant_apps = set(settings.TENANT_APPS)
            SharedSchemaRouter._shared_only = frozenset(
                config.label for config in apps.get_app_configs()
                if config.name in settings.SHARED_APPS or _entry_of(config) in settings.SHARED_APPS
                if config.name not in tenant_apps and _entry_of(config) not in tenant_apps
            )
        return SharedSchemaRouter._shared_only


def _entry_of(config) -> str:
    """The INSTALLED_APPS entry of an app (an AppConfig's dotted path, or the module)."""
    return f"{type(config).__module__}.{type(config).__qualname__}"
