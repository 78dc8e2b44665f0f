"""Two roles on every database: the owner migrates, the application's role writes rows.

An operator with tenants on a second PostgreSQL server gives it an owner role
too (HERALD_TENANT_MIGRATE_DATABASES), as DATABASE_MIGRATE_URL does for the
first: the tenant's tables there belong to the owner, and the role Herald runs
as on that server can write its rows but can neither switch the audit trail's
append-only trigger off nor truncate it. alerting/infra/db_roles.py.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, unquote, urlsplit

import psycopg
import pytest

from alerting.infra.db_roles import databases_for_command
from alerting.infra.tenant_databases import TenantDatabasesError, tenant_migrate_urls_parse
from tests.tenants.test_databases import (  # noqa: F401 - fixtures
    manage,
    rows_on,
    second_postgres,
    two_databases,
)


@pytest.fixture
def third_database(second_postgres) -> dict[str, str]:  # noqa: F811
    """A database of its own on the second server, owned by a role that is no superuser."""
    suffix = uuid.uuid4().hex[:8]
    owner, app, name = f"herald_owner_{suffix}", f"herald_app_{suffix}", f"herald_{suffix}"
    with psycopg.connect(second_postgres, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE ROLE {app} LOGIN")
        conn.execute(f"CREATE DATABASE {name} OWNER {owner}")
    socket_dir = unquote(urlsplit(second_postgres).hostname or "")

    def url(role: str) -> str:
        return f"postgres://{role}@{quote(socket_dir, safe='')}/{name}"

    return {"owner": owner, "app": app, "owner_url": url(owner), "app_url": url(app),
            "superuser_url": url("postgres")}


def test_a_tenant_on_another_database_is_migrated_by_its_owner_and_its_trail_is_out_of_reach(
    two_databases, third_database, committed_tenants, tmp_path  # noqa: F811
):
    db = third_database
    env = {
        **two_databases,
        "HERALD_TENANT_DATABASES": f"third={db['app_url']}",
        "HERALD_TENANT_MIGRATE_DATABASES": f"third={db['owner_url']}",
    }
    manage(env, "migrate_schemas", "--shared", "--database", "third")
    manage(env, "create_tenant", "--slug", "delta", "--name", "Delta",
           "--domain", "delta.example.test", "--database", "third")
    granted = manage(env, "grant_app_role", db["app"], "--database", "third")
    assert "DML granted on 2 schemas of third" in granted.stdout

    # Everything the migrations made there belongs to the owner, not the app's role.
    owners = rows_on(
        db["superuser_url"],
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('public', 'delta')",
    )
    assert owners == [(db["owner"],)]

    # Herald, connected as the app's role, writes the tenant's rows there (and
    # their audit entries)...
    config = tmp_path / "delta.yaml"
    config.write_text(
        "receivers:\n  - name: delta-hook\n    kind: webhook\n"
        "    secrets:\n      url: https://hooks.example.test/delta\n"
        "routes:\n  - {name: everything, default: true, receivers: [delta-hook]}\n"
    )
    manage(env, "deploy_receivers", str(config), "--tenant", "delta")
    assert rows_on(db["owner_url"], "SELECT name FROM delta.receivers_receiver") == [
        ("delta-hook",)
    ]
    entries = rows_on(db["owner_url"], "SELECT count(*) FROM delta.audit_auditentry")[0][0]
    assert entries > 0

    # ...but cannot switch the trail's trigger off, rewrite it or truncate it.
    with psycopg.connect(db["app_url"], autocommit=True) as conn:
        conn.execute("SET search_path TO delta")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            conn.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM audit_auditentry")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("TRUNCATE audit_auditentry")
    assert rows_on(db["owner_url"], "SELECT count(*) FROM delta.audit_auditentry") == [
        (entries,)
    ]


def test_granting_on_a_database_herald_does_not_know_is_refused(two_databases):  # noqa: F811
    refused = manage(two_databases, "grant_app_role", "herald_app", "--database", "nowhere",
                     check=False)
    assert refused.returncode == 1
    assert "'nowhere' is not one of HERALD_TENANT_DATABASES' aliases" in refused.stderr


def test_only_schema_commands_connect_as_each_database_owner():
    databases = {
        "default": {"NAME": "herald", "USER": "herald_app", "HOST": "pg-a"},
        "eu": {"NAME": "herald_eu", "USER": "herald_app", "HOST": "pg-eu", "PORT": 5432},
    }
    owners = {"eu": "postgres://herald_owner:pw@pg-eu:5432/herald_eu"}
    migrating = databases_for_command(databases, migrate_urls=owners,
                                      argv=["manage.py", "create_tenant"])
    assert set(migrating) == {"eu"}
    assert (migrating["eu"]["USER"], migrating["eu"]["PASSWORD"]) == ("herald_owner", "pw")
    serving = databases_for_command(databases, migrate_urls=owners,
                                    argv=["manage.py", "runherald"])
    assert serving["eu"]["USER"] == "herald_app"
    # Only the tables' owner can grant on them.
    granting = databases_for_command(databases, migrate_urls=owners,
                                     argv=["manage.py", "grant_app_role", "herald_app"])
    assert granting["eu"]["USER"] == "herald_owner"


@pytest.mark.parametrize("spec, complaint", [
    ("us=postgres://owner@pg-us/h", "'us' has an owner role but is not in HERALD_TENANT_DATABASES"),
    ("eu", "expected alias=postgres://"),
    ("eu=postgres://a@h/d,eu=postgres://b@h/d", "named twice"),
])
def test_an_owner_setting_that_cannot_be_used_says_why(spec, complaint):
    with pytest.raises(TenantDatabasesError, match=re.escape(complaint)):
        tenant_migrate_urls_parse(spec=spec, databases={"default": {}, "eu": {}})
