"""What an insider with the table owner's rights can do to an audit table."""

from __future__ import annotations

from django.db import connection


def as_owner(*statements: str, params=None, table: str = "audit_auditentry") -> None:
    """Switch the append-only trigger of `table` off, run the statements, switch it on."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(statement, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
