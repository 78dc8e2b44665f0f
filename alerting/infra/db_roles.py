"""Two database roles (optional): an owner that migrates, an application role that writes rows.

With `DATABASE_MIGRATE_URL` set, the commands that change schemas connect as
that owner; everything else (web, workers, beat) connects with
`DATABASE_URL` as a role granted DML only, which can neither switch the
audit log's append-only trigger off (`ALTER TABLE` needs ownership) nor
truncate it. Unset, one role does everything, as on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import dj_database_url

# What creates or alters tables: migrations, and a new tenant's schema.
SCHEMA_COMMANDS = frozenset({"migrate", "migrate_schemas", "create_tenant"})
_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


def database_for_command(default: dict, *, migrate_url: str, argv: Sequence[str]) -> dict:
    """The default database's settings, as the owner role when this command changes schemas."""
    if not migrate_url or len(argv) < 2 or argv[1] not in SCHEMA_COMMANDS:
        return default
    owner = dj_database_url.parse(migrate_url)
    return {**default, **{key: owner[key] for key in _CONNECTION_KEYS if key in owner}}
