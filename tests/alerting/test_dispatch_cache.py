"""Ingest caches routes, silences and receivers per process; every write shows at once.

Each test warms the cache with one ingest, changes the configuration the way
an SRE would (API, admin, YAML deploy, services, another process), and
checks that the very next ingest behaves by the new configuration.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import Route
from receivers.models import Notification, Receiver
from receivers.services import receiver_save
from tenants.models import Role, TenantMembership
from tenants.services import api_token_create
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    SilenceFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import keep_schema, post, public_client
from tests.other_process import django_shell_run


@pytest.fixture
def send(alpha, ingest_key):
    """Post one new firing alert; returns how many notifications it queued."""
    key = ingest_key(alpha)

    def send(**labels) -> int:
        alert = WebhookAlertFactory(labels={"alertname": "HighLatency", **labels})
        response = post(public_client(), WebhookPayloadFactory(alerts=[alert]), key)
        assert response.status_code == 200, response.content
        return response.json()["notifications"]

    return send


def told(receiver: Receiver) -> int:
    return Notification.objects.filter(receiver=receiver).count()


def test_a_silence_created_and_expired_over_the_api_applies_to_the_next_ingest(alpha, send):
    ReceiverFactory()
    api = Client(HTTP_HOST="127.0.0.1",
                 HTTP_AUTHORIZATION="Bearer "
                 + api_token_create(tenant=alpha, name="t", scopes=["acknowledge"])[1])
    assert send() == 1

    with keep_schema():
        created = api.post(
            "/api/v1/silences/",
            {"matchers": 'alertname="HighLatency"', "startsAt": "2026-01-01T00:00:00Z",
             "endsAt": (timezone.now() + timedelta(days=1)).isoformat()},
            content_type="application/json",
        )
    assert created.status_code == 201
    assert send() == 0

    with keep_schema():
        assert api.delete(f"/api/v1/silences/{created.json()['id']}/").status_code == 204
    assert send() == 1


def test_a_route_added_in_the_admin_applies_to_the_next_ingest(alpha, send):
    everyone, pager = ReceiverFactory(), ReceiverFactory()
    assert send(team="db") == 2  # no routes: every receiver

    user = User.objects.create_user(username="sre", password="x")
    TenantMembership.objects.create(user=user, tenant=alpha, role=Role.EDITOR)
    admin = Client(HTTP_HOST="alpha.localhost")
    admin.force_login(user)
    with keep_schema():
        response = admin.post(
            "/admin/alerting/route/add/",
            {"name": "db", "position": 1, "matchers": 'team="db"', "min_severity": 0,
             "receivers": [pager.pk]},
        )
    assert response.status_code == 302, response.content
    assert Route.objects.filter(name="db").exists()

    assert send(team="db") == 1
    assert (told(everyone), told(pager)) == (1, 2)


def test_a_yaml_deploy_applies_to_the_next_ingest(alpha, send, tmp_path, monkeypatch):
    ReceiverFactory(name="old")
    assert send() == 1

    monkeypatch.setenv("HOOK_URL", "https://93.184.216.34/hook")
    config = tmp_path / "herald.yaml"
    config.write_text(
        "receivers:\n"
        "  - name: hook\n    kind: webhook\n    secrets:\n      url: ${HOOK_URL}\n"
        "routes:\n"
        "  - name: all\n    default: true\n    receivers: [hook]\n"
        "silences:\n"
        "  - matchers: ['team=\"db\"']\n"
        "    starts_at: 2026-01-01T00:00:00Z\n    ends_at: 2099-01-01T00:00:00Z\n"
    )
    call_command("deploy_receivers", str(config), tenant="alpha", stdout=None)
    connection.set_tenant(alpha)

    assert send() == 1
    assert Notification.objects.order_by("id").last().receiver_name == "hook"
    assert send(team="db") == 0


def test_a_receiver_disabled_or_added_through_the_services_applies_to_the_next_ingest(send):
    one = ReceiverFactory()
    assert send() == 1

    one.enabled = False
    receiver_save(receiver=one, config={}, secrets={})
    assert send() == 0

    ReceiverFactory()
    assert send() == 1


def test_a_silence_ends_on_time_without_any_write(send):
    ReceiverFactory()
    SilenceFactory(ends_at=timezone.now() + timedelta(minutes=5))
    assert send() == 0  # cached with the silence active

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert send() == 1


def test_a_rolled_back_change_leaves_nothing_cached(send):
    """Versions are never reused, not even after a rollback."""
    first, second = ReceiverFactory(), ReceiverFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        RouteFactory(receivers=[first])
        assert send() == 1  # cached under the rolled-back change
        raise RuntimeError

    RouteFactory(receivers=[second])
    assert send() == 1
    assert (told(first), told(second)) == (0, 1)


def test_a_change_by_plain_sql_applies_to_the_next_ingest(send):
    """Invalidation is PostgreSQL's: it needs no Python code on the writing side."""
    ReceiverFactory()
    assert send() == 1

    with connection.cursor() as cursor:
        cursor.execute("UPDATE receivers_receiver SET enabled = false")
    assert send() == 0


@pytest.mark.e2e
def test_a_silence_created_in_another_process_silences_the_next_ingest(
    committed_tenants, ingest_key
):
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    with tenant_context(alpha):
        ReceiverFactory()

    def send() -> int:
        alert = WebhookAlertFactory(labels={"alertname": "HighLatency"})
        response = post(public_client(), WebhookPayloadFactory(alerts=[alert]), key)
        assert response.status_code == 200
        return response.json()["notifications"]

    assert send() == 1

    script = (
        "from django.utils import timezone; from datetime import timedelta;"
        "from django_tenants.utils import schema_context;"
        "from alerting.services import silence_create;"
        "now = timezone.now();\n"
        "with schema_context('alpha'):\n"
        "    silence_create(matchers='alertname=\"HighLatency\"', created_by='other',"
        " starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1))"
    )
    django_shell_run(script)

    assert send() == 0
