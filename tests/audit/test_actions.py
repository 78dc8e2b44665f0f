"""Who acknowledged, resolved or silenced: the trail names the person or the token.

An on-call engineer acts in the tenant admin, a dashboard acts with its API
token; an auditor then reads in the trail who did what, from where.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from alerting.audit.models import AuditEntry
from alerting.audit.selectors import audit_chain_verify
from alerting.models import AlertGroup, Silence
from tenants.models import Role, TenantMembership
from tenants.services import api_token_create
from tests.factories import AlertGroupFactory
from tests.ingest import keep_schema


@pytest.fixture
def dashboard(alpha):
    """A token that may acknowledge, resolve and silence, and a client that uses it."""
    row, token = api_token_create(tenant=alpha, name="grafana", scopes=["read", "acknowledge"])
    return row, Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}",
                       REMOTE_ADDR="192.0.2.7")


@pytest.fixture
def engineer(alpha, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.create_user(username="dana", password="correct horse battery")
    TenantMembership.objects.create(user=user, tenant=alpha, role=Role("editor"))
    client = Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR="198.51.100.4")
    client.force_login(user)
    return client


def _entries(action: str, obj_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_type=obj_type).order_by("id"))


def test_acknowledge_and_resolve_over_the_api_name_the_token(alpha, dashboard):
    row, client = dashboard
    group = AlertGroupFactory()
    with keep_schema():
        assert client.post(f"/api/v1/alert-groups/{group.id}/acknowledge/").status_code == 200
        assert client.post(f"/api/v1/alert-groups/{group.id}/resolve/").status_code == 200

    (ack,) = _entries("acknowledge", "alerting.alertgroup")
    (resolve,) = _entries("resolve", "alerting.alertgroup")
    for entry in (ack, resolve):
        assert (entry.actor, entry.source, entry.ip, entry.object_id) == (
            row.actor, "api", "192.0.2.7", str(group.id))
    assert ack.after == {"acknowledged_by": row.actor, "first": True}
    assert audit_chain_verify().intact


def test_a_refused_action_leaves_no_entry(alpha, dashboard):
    _, client = dashboard
    group = AlertGroupFactory(status="resolved")
    with keep_schema():
        assert client.post(f"/api/v1/alert-groups/{group.id}/acknowledge/").status_code == 409
    assert not _entries("acknowledge", "alerting.alertgroup")


def test_silences_over_the_api_name_the_token(alpha, dashboard):
    row, client = dashboard
    with keep_schema():
        created = client.post(
            "/api/v1/silences/",
            {"matchers": 'alertname="HighLatency"', "startsAt": timezone.now().isoformat(),
             "endsAt": (timezone.now() + timedelta(hours=2)).isoformat(), "comment": "deploy"},
            content_type="application/json",
        )
        assert created.status_code == 201, created.content
        silence_id = created.json()["id"]
        assert client.delete(f"/api/v1/silences/{silence_id}/").status_code == 204

    (create,) = _entries("create", "alerting.silence")
    (delete,) = _entries("delete", "alerting.silence")
    assert (create.actor, create.source, create.object_id) == (row.actor, "api", str(silence_id))
    assert create.after["comment"] == "deploy"
    assert (delete.actor, delete.before["matchers"]) == (row.actor, 'alertname="HighLatency"')


def test_acknowledge_and_resolve_in_the_admin_name_the_member(alpha, engineer):
    group = AlertGroupFactory()
    for verb in ("acknowledge", "resolve"):
        with keep_schema():
            response = engineer.post("/admin/alerting/alertgroup/",
                                     {"action": verb, "_selected_action": [group.id]})
        assert response.status_code == 302

    group = AlertGroup.objects.get(id=group.id)
    assert (group.acknowledged_by, group.resolved_by) == ("dana", "dana")
    for verb in ("acknowledge", "resolve"):
        (entry,) = _entries(verb, "alerting.alertgroup")
        assert (entry.actor, entry.source, entry.ip) == ("dana", "admin", "198.51.100.4")


def test_a_silence_made_in_the_admin_names_the_member(alpha, engineer):
    start = timezone.now()
    with keep_schema():
        response = engineer.post("/admin/alerting/silence/add/", {
            "matchers": 'service="db"', "kind": "once",
            "starts_at_0": start.strftime("%Y-%m-%d"), "starts_at_1": start.strftime("%H:%M:%S"),
            "ends_at_0": (start + timedelta(days=1)).strftime("%Y-%m-%d"),
            "ends_at_1": start.strftime("%H:%M:%S"), "time_zone": "UTC", "comment": "maintenance",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    silence = Silence.objects.get()
    (entry,) = _entries("create", "alerting.silence")
    assert (entry.actor, entry.source, entry.object_id) == ("dana", "admin", str(silence.id))
    assert entry.after["comment"] == "maintenance"
