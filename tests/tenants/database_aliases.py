"""Databases this test process learns of mid-run, as HERALD_TENANT_DATABASES would add them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, connections

from tenants.databases import schema_databases_forget


@contextmanager
def database_aliases_added(added: dict[str, dict]) -> Iterator[None]:
    """`added` (aliases to settings, `second` among them) known for the block, then forgotten.

    Only `second` is connected here (Django's test case refuses to open an
    alias it was not told of). The shared alias is never opened: the first
    binding makes it the thread's own default wrapper.
    """
    settings.DATABASES.update(added)
    connections["second"].connect()
    schema_databases_forget()
    try:
        yield
    finally:
        schema_databases_forget()
        connection.set_schema_to_public()
        for alias in added:
            if alias in connections.settings and hasattr(connections._connections, alias):
                if connections[alias] is not connections["default"]:
                    connections[alias].close()
                delattr(connections._connections, alias)
            settings.DATABASES.pop(alias)
