"""Two database roles (optional): an owner that migrates, an application role that writes rows.

With `DATABASE_MIGRATE_URL` set, the commands that change schemas connect as
that owner (`HERALD_TENANT_MIGRATE_DATABASES` names one per extra database);
everything else (web, workers, beat) connects with `DATABASE_URL` (and each
HERALD_TENANT_DATABASES URL) as a role granted DML only, which can neither switch the
audit log's append-only trigger off (`ALTER TABLE` needs ownership) nor
truncate it. Unset, one role does everything, as on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import dj_database_url

# What creates or alters tables or their grants: migrations, a new tenant's
# schema, and the app role's grants (only the tables' owner may give them,
# and the default privileges it sets are for what the owner creates next).
SCHEMA_COMMANDS = frozenset({"migrate", "migrate_schemas", "create_tenant", "grant_app_role"})
_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


def database_for_command(default: dict, *, migrate_url: str, argv: Sequence[str]) -> dict:
    """A database's settings, as the owner role when this command changes schemas."""
    if not migrate_url or len(argv) < 2 or argv[1] not in SCHEMA_COMMANDS:
        return default
    owner = dj_database_url.parse(migrate_url)
    return {**default, **{key: owner[key] for key in _CONNECTION_KEYS if key in owner}}


def databases_for_command(
    databases: dict[str, dict], *, migrate_urls: dict[str, str], argv: Sequence[str]
) -> dict[str, dict]:
    """The entries of `databases` that have an owner role, as this command connects to them.

    `migrate_urls` maps an alias to its owner's URL (DATABASE_MIGRATE_URL for
    `default`, HERALD_TENANT_MIGRATE_DATABASES for the others); an alias
    without one keeps its URL's role for everything.
    """
    return {
        alias: database_for_command(databases[alias], migrate_url=url, argv=argv)
        for alias, url in migrate_urls.items()
    }
