"""A key or token revoked anywhere stops working at once everywhere.

Each web process remembers which tenant an ingest key selects. Revoking it in
another process (the admin on another host, a shell, plain SQL) bumps the
tenant's configuration version, which ingest's upsert reads anyway: the next
post is refused and stores nothing, with no extra query while nothing changed.
"""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from alerting.models import Alert
from alerting.selectors import config_version
from tenants.models import IngestKey, Tenant
from tenants.services import api_token_create, hashed_key_revoke, ingest_key_create
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import keep_schema, post, public_client
from tests.other_process import django_shell_run


def ingest(key: str) -> int:
    return post(public_client(), WebhookPayloadFactory(alerts=[WebhookAlertFactory()]),
                key).status_code


def api_get(token: str) -> int:
    with keep_schema():
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.get("/api/v1/alerts/").status_code


def in_another_connection(sql: str, params: list) -> None:
    """As any other process would: its own connection, committed at once."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        other.close()


def test_a_remembered_key_costs_no_lookup_while_nothing_changed(alpha):
    key = ingest_key_create(tenant=alpha, name="am")[1]
    assert ingest(key) == 200  # looks the key up, and confirms it after the upsert

    with CaptureQueriesContext(connection) as queries:
        assert ingest(key) == 200

    assert not [q for q in queries if "tenants_ingestkey" in q["sql"]]


def test_a_key_revoked_in_this_process_is_refused_on_the_next_post(alpha):
    row, key = ingest_key_create(tenant=alpha, name="am")
    assert ingest(key) == 200

    hashed_key_revoke(key=row)

    assert ingest(key) == 401
    assert Alert.objects.count() == 1


def test_a_key_moved_to_another_tenant_stores_nothing_in_the_old_one(alpha, beta):
    row, key = ingest_key_create(tenant=alpha, name="am")
    assert ingest(key) == 200

    IngestKey.objects.filter(pk=row.pk).update(tenant=beta)

    assert ingest(key) == 401  # this post was for alpha; the next one finds beta
    assert Alert.objects.count() == 1
    assert ingest(key) == 200
    with tenant_context(beta):
        assert Alert.objects.count() == 1


def test_editing_a_tenant_or_its_keys_bumps_its_configuration_version(alpha, beta):
    before = config_version()
    with tenant_context(beta):
        beta_before = config_version()

    Tenant.objects.filter(pk=alpha.pk).update(ingest_rate_limit="10/second")
    after_edit = config_version()
    ingest_key_create(tenant=alpha, name="new")
    after_key = config_version()

    assert before < after_edit < after_key
    with tenant_context(beta):
        assert config_version() == beta_before  # another tenant's cache stays warm


def test_revoked_through_another_connection_both_kinds_are_refused_at_once(committed_tenants):
    alpha = committed_tenants["alpha"]
    key_row, key = ingest_key_create(tenant=alpha, name="am")
    token_row, token = api_token_create(tenant=alpha, name="dashboard")
    assert (ingest(key), api_get(token)) == (200, 200)

    in_another_connection("UPDATE tenants_ingestkey SET revoked_at = now() WHERE id = %s",
                          [key_row.pk])
    in_another_connection("UPDATE tenants_apitoken SET revoked_at = now() WHERE id = %s",
                          [token_row.pk])

    assert (ingest(key), api_get(token)) == (401, 401)
    with tenant_context(alpha):
        assert Alert.objects.count() == 1


@pytest.mark.e2e
def test_revoked_by_another_process_both_kinds_are_refused_at_once(committed_tenants):
    alpha = committed_tenants["alpha"]
    key_row, key = ingest_key_create(tenant=alpha, name="am")
    token_row, token = api_token_create(tenant=alpha, name="dashboard")
    assert (ingest(key), api_get(token)) == (200, 200)

    script = (
        "from tenants.models import ApiToken, IngestKey;"
        "from tenants.services import hashed_key_revoke;"
        f"hashed_key_revoke(key=IngestKey.objects.get(pk={key_row.pk}));"
        f"hashed_key_revoke(key=ApiToken.objects.get(pk={token_row.pk}))"
    )
    django_shell_run(script)

    assert (ingest(key), api_get(token)) == (401, 401)
