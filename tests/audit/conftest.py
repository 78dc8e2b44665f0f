"""Transactional tests and the append-only audit tables.

pytest-django empties the tables after a transactional test with one
TRUNCATE, which an append-only audit table refuses: in a tenant's schema
(where such a test may leave the connection) and in the shared schema (the
operators' chain). `audit_flushable` moves the connection to the shared
schema and switches the shared audit table's trigger off just for that
flush, and on again after it. Put it before `committed_tenants` in the
arguments, and give the test no django_db marker (the marker's fixture would
be torn down, and flush, last).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

_TABLE = "public.audit_auditentry"


def _trigger(enable: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [_TABLE])
        if cursor.fetchone()[0] is not None:
            cursor.execute(f"ALTER TABLE {_TABLE} {'ENABLE' if enable else 'DISABLE'} TRIGGER USER")


@pytest.fixture
def _audit_trigger_back_on(django_db_blocker) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        _trigger(True)


@pytest.fixture
def audit_flushable(_audit_trigger_back_on, transactional_db) -> Iterator[None]:
    yield
    connection.set_schema_to_public()
    _trigger(False)
