"""Transactional tests and the operators' audit chain in the shared schema.

pytest-django empties the shared tables after a transactional test with one
TRUNCATE, which the shared schema's append-only audit table refuses. These
fixtures switch its trigger off just for that flush and on again after it
(no django_db marker on such a test: its fixtures would be torn down first):
`audit_flushable` must come before `committed_tenants` in the arguments.
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
