"""A new tenant's schema is a copy of the migrated template: the same schema, in milliseconds."""

from __future__ import annotations

import pytest
import requests
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_exists, tenant_context

from receivers.models import Notification, NotificationState
from tenants import services
from tenants.models import Tenant
from tenants.schema_clone import TEMPLATE_SCHEMA
from tenants.services import tenant_create
from tenants.spare_schemas import spare_schema_prepare
from tests.conftest import wait_for
from tests.factories import ReceiverFactory, WebhookPayloadFactory
from tests.ingest import INGEST

# What information_schema says a schema is made of, with the schema's own name
# left out (and the per-table NOT NULL constraints, which PostgreSQL names by
# table oid, compared as columns' nullability instead).
_STRUCTURE = """
SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' '
       || coalesce(column_default, '') || ' ' || is_nullable || ' ' || is_identity
       || ' ' || coalesce(identity_generation, '') || ' ' || coalesce(character_maximum_length, 0)
FROM information_schema.columns WHERE table_schema = %(schema)s
UNION ALL
SELECT 'constraint', table_name || '.' || constraint_name || ' ' || constraint_type
       || ' ' || is_deferrable || ' ' || initially_deferred
FROM information_schema.table_constraints
WHERE constraint_schema = %(schema)s AND constraint_name NOT LIKE '%%not_null'
UNION ALL
SELECT 'check', constraint_name || ' ' || check_clause FROM information_schema.check_constraints
WHERE constraint_schema = %(schema)s AND constraint_name NOT LIKE '%%not_null'
UNION ALL
SELECT 'foreign key', constraint_name || ' -> own schema: '
       || (unique_constraint_schema = %(schema)s)::text || ' ' || unique_constraint_name
       || ' ' || update_rule || ' ' || delete_rule
FROM information_schema.referential_constraints WHERE constraint_schema = %(schema)s
UNION ALL
SELECT 'sequence', sequence_name || ' ' || data_type || ' ' || start_value || ' ' || increment
FROM information_schema.sequences WHERE sequence_schema = %(schema)s
UNION ALL
SELECT 'index', tablename || '.' || indexname || ' ' || replace(indexdef, schemaname || '.', '')
FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'trigger', event_object_table || '.' || trigger_name || ' ' || event_manipulation
       || ' ' || action_timing || ' ' || replace(action_statement, trigger_schema || '.', '')
FROM information_schema.triggers WHERE trigger_schema = %(schema)s
UNION ALL
SELECT 'function', routine_name || ' ' || routine_definition
FROM information_schema.routines WHERE routine_schema = %(schema)s
"""


def structure(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(_STRUCTURE, {"schema": schema})
        return set(cursor.fetchall())


def rows(schema: str, table: str, order: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}')  # noqa: S608
        return cursor.fetchall()


def next_id(schema: str, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [f"{schema}.{table}"])
        return cursor.fetchone()[0]


def assert_rows_follow_the_template(schema: str) -> None:
    """The rows migrations wrote, and the sequences behind them: the next id follows them."""
    for table in ("django_migrations", "django_content_type"):
        assert rows(schema, table, "id") == rows(TEMPLATE_SCHEMA, table, "id")
    assert next_id(schema, "django_content_type") == max(
        row[0] for row in rows(TEMPLATE_SCHEMA, "django_content_type", "id")) + 1


def assert_triggers_run(tenant: Tenant) -> None:
    with tenant_context(tenant):
        version_before = rows(tenant.schema_name, "alerting_config_version", "1")
        ReceiverFactory(name="pager")
        # The configuration-version trigger: every process learns of the change.
        assert rows(tenant.schema_name, "alerting_config_version", "1") != version_before
        # The audit trail's append-only trigger.
        with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), \
                transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")


def test_a_cloned_schema_is_the_migrated_schema(db):
    tenant = tenant_create(slug="cloned-one", name="Cloned", domain="cloned-one.localhost")
    connection.set_schema_to_public()
    migrated = structure(TEMPLATE_SCHEMA)

    assert structure(tenant.schema_name) == migrated
    assert len([kind for kind, _ in migrated if kind == "column"]) > 200  # not trivially equal
    assert_rows_follow_the_template(tenant.schema_name)


def test_a_cloned_schemas_triggers_run_as_a_migrated_ones(db):
    tenant = tenant_create(slug="cloned-two", name="Cloned", domain="cloned-two.localhost")

    assert_triggers_run(tenant)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("source", ["clone", "spare"])
def test_a_cloned_tenant_ingests_and_delivers(
    source, live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key,
    settings, monkeypatch,
):
    # A spare schema renamed (tenants/spare_schemas.py), or a clone made now.
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1 if source == "spare" else 0
    monkeypatch.setattr(services, "_spare_schemas_refill", lambda: None)
    spare = spare_schema_prepare() if source == "spare" else None
    httpserver.expect_request("/hook").respond_with_data("ok")
    tenant = tenant_create(slug="cloned-e2e", name="Cloned", domain="cloned-e2e.localhost",
                           allow_private_targets=True)
    try:
        assert spare is None or not schema_exists(spare)  # the spare became the tenant
        with tenant_context(tenant):
            ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
        key = ingest_key(tenant)

        response = requests.post(live_server.url + INGEST, json=WebhookPayloadFactory(),
                                 headers={"Authorization": f"Bearer {key}"}, timeout=30)

        assert response.status_code == 200
        wait_for(lambda: len(httpserver.log) == 1, timeout=30)
        with tenant_context(tenant):
            wait_for(lambda: Notification.objects.get().state == NotificationState.DELIVERED)
    finally:
        connection.set_schema_to_public()
        Tenant.objects.get(id=tenant.id).delete(force_drop=True)
