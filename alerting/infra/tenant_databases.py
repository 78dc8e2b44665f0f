"""Settings of tenants on several PostgreSQL databases: one Django alias per database.

`HERALD_TENANT_DATABASES="eu=postgres://herald@pg-eu/herald,us=postgres://…"`
adds the aliases `eu` and `us` beside `default`. `default` keeps the shared
schema (tenants, domains, users, keys, the due-work index) and any tenant whose
`database` is `default`; each other alias holds the schemas of the tenants that
name it (tenants/databases.py binds a thread's connection to them). Unset,
there is one database and nothing here changes a setting.
`HERALD_TENANT_MIGRATE_DATABASES` names, the same way, the owner role each
extra database's migrations run as (alerting/infra/db_roles.py).

Each extra alias copies the default's engine and options (CONN_MAX_AGE, health
checks, prepared statements, the pooler's backend), so a database behind
PgBouncer is configured the same way. `SHARED_ALIAS` is the shared schema's
database under a second name, for what a thread reads there while its
`default` is bound to another database.
"""

from __future__ import annotations

import re

import dj_database_url

SHARED_ALIAS = "herald_shared"
_ALIAS = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


def tenant_database_aliases() -> list[str]:
    """The databases a tenant may live on: `default` first, then HERALD_TENANT_DATABASES'."""
    from django.conf import settings

    return ["default"] + [
        alias for alias in settings.DATABASES if alias not in ("default", SHARED_ALIAS)
    ]


class TenantDatabasesError(ValueError):
    """HERALD_TENANT_DATABASES cannot be read; the message says which entry and why."""


def _alias_urls(spec: str) -> dict[str, str]:
    """`alias=url,alias=url` read into a mapping; raises TenantDatabasesError naming the entry."""
    urls: dict[str, str] = {}
    for entry in (entry.strip() for entry in spec.split(",")):
        if not entry:
            continue
        alias, sep, url = entry.partition("=")
        alias = alias.strip()
        if not sep or not url.strip():
            raise TenantDatabasesError(f"{alias!r}: expected alias=postgres://…")
        if not _ALIAS.match(alias) or alias in ("default", SHARED_ALIAS):
            raise TenantDatabasesError(
                f"{alias!r}: an alias is lower-case letters, digits and _, at most 31,"
                f" and neither 'default' nor {SHARED_ALIAS!r}"
            )
        if alias in urls:
            raise TenantDatabasesError(f"{alias!r} is named twice")
        urls[alias] = url.strip()
    return urls


def tenant_migrate_urls_parse(*, spec: str, databases: dict[str, dict]) -> dict[str, str]:
    """HERALD_TENANT_MIGRATE_DATABASES: each extra database's owner role, for migrations.

    `eu=postgres://herald_owner@pg-eu/herald` makes the commands that change
    schemas (db_roles.SCHEMA_COMMANDS) connect to `eu` as that owner, as
    DATABASE_MIGRATE_URL does for `default`. Every alias must be one of
    HERALD_TENANT_DATABASES': an owner for a database Herald does not know is
    a typo, not a setting.
    """
    urls = _alias_urls(spec)
    for alias in urls:
        if alias not in databases:
            raise TenantDatabasesError(
                f"{alias!r} has an owner role but is not in HERALD_TENANT_DATABASES"
            )
    return urls


def tenant_databases_parse(*, default: dict, spec: str) -> dict[str, dict]:
    """The DATABASES entries `spec` adds to `default` (none when it is empty)."""
    urls = _alias_urls(spec)
    if not urls:
        return {}
    databases: dict[str, dict] = {}
    for alias, url in urls.items():
        parsed = dj_database_url.parse(url)
        databases[alias] = {
            **default,
            "OPTIONS": dict(default.get("OPTIONS", {})),
            **{key: parsed[key] for key in _CONNECTION_KEYS if key in parsed},
        }
    # The shared schema's database under its own name: in tests it is the test
    # database itself, not one more to create.
    databases[SHARED_ALIAS] = {**default, "TEST": {"MIRROR": "default"}}
    return databases
