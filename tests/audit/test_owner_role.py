"""Migrations as an owner role, the application as a role granted DML only.

Connected as the application's role (SET ROLE: the same privilege checks as
logging in as it), switching the audit log's trigger off fails, so an
update or delete can never get past it; writing the trail still works.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from alerting.audit.models import AuditEntry
from alerting.audit.services import audit_record
from alerting.infra.db_roles import database_for_command

APP_ROLE = "herald_app_test"


@pytest.fixture
def as_app_role(alpha):
    """A DML-only role (rolled back with the test), granted the way the README says."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    call_command("grant_app_role", APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _run(statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_app_role_cannot_switch_the_trigger_off(as_app_role):
    with pytest.raises(DatabaseError, match="must be owner"):
        _run("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")


def test_the_app_role_writes_the_trail_but_cannot_change_or_truncate_it(as_app_role):
    entry = audit_record(actor="ana", source="admin", action="update")
    assert AuditEntry.objects.filter(id=entry.id).exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(id=entry.id).update(actor="mallory")
    with pytest.raises(DatabaseError, match="permission denied"):
        _run("TRUNCATE audit_auditentry")


def test_schema_commands_connect_as_the_owner_and_the_rest_as_the_app():
    default = {"ENGINE": "django_tenants.postgresql_backend", "NAME": "herald",
               "USER": "herald_app", "PASSWORD": "", "HOST": "db", "PORT": "5432"}
    owner_url = "postgres://herald_owner:pw@db:5432/herald"
    migrating = database_for_command(default, migrate_url=owner_url,
                                     argv=["manage.py", "migrate_schemas"])
    assert (migrating["USER"], migrating["ENGINE"]) == ("herald_owner",
                                                        "django_tenants.postgresql_backend")
    serving = database_for_command(default, migrate_url=owner_url,
                                   argv=["manage.py", "runherald"])
    assert serving["USER"] == "herald_app"
    assert database_for_command(default, migrate_url="", argv=["manage.py", "migrate"]) == default


def test_the_app_role_cannot_touch_the_operators_chain_either(as_app_role):
    connection.set_schema_to_public()
    entry = audit_record(actor="operator", source="admin", action="login")
    assert entry.seq == 1
    with pytest.raises(DatabaseError, match="must be owner"):
        _run("ALTER TABLE audit_heads_operatorauditentry DISABLE TRIGGER USER")
    with pytest.raises(DatabaseError, match="append-only"):
        _run("DELETE FROM audit_heads_operatorauditentry")
    with pytest.raises(DatabaseError, match="permission denied"):
        _run("TRUNCATE audit_heads_operatorauditentry")
