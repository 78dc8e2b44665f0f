"""A tenant's admins hand out API tokens: scoped, expiring, revocable, the secret shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from tenants.models import ApiToken, Role, TenantMembership
from tenants.services import api_token_create
from tests.ingest import keep_schema

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def admin_client(tenant, role: Role) -> Client:
    user = User.objects.create_user(username=f"{role}-{tenant.slug}", password=PASSWORD)
    TenantMembership.objects.create(user=user, tenant=tenant, role=role)
    client = Client(HTTP_HOST=f"{tenant.slug}.localhost")
    client.force_login(user)
    return client


def api_get(token: str, path: str = "/api/v1/alerts/"):
    with keep_schema():
        return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}").get(path)


def shown_secret(response) -> str:
    messages = [str(m) for m in response.context["messages"]]
    found = re.search(r": (ht_\S+) \(shown once", " ".join(messages))
    assert found, messages
    return found.group(1)


def test_a_tenant_admin_creates_a_scoped_expiring_token_and_sees_it_once(alpha):
    client = admin_client(alpha, Role.ADMIN)

    with keep_schema():
        response = client.post(
            "/admin/tenants/tenantapitoken/add/",
            {"name": "chat-bot", "scopes": ["read", "acknowledge"], "expires": "30"},
            follow=True,
        )
        listing = client.get("/admin/tenants/tenantapitoken/")

    secret = shown_secret(response)
    token = ApiToken.objects.get(name="chat-bot")
    assert (token.tenant, sorted(token.scopes)) == (alpha, ["acknowledge", "read"])
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert api_get(secret).status_code == 200
    assert secret not in listing.content.decode()  # only the prefix, from now on
    assert token.prefix in listing.content.decode()
    with keep_schema():
        page = client.get(f"/admin/tenants/tenantapitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert "acknowledge, read" in page.content.decode()
    assert secret not in page.content.decode()
    entry = AuditEntry.objects.get(action="create", object_type="tenants.tenantapitoken")
    assert entry.actor == "admin-alpha"
    assert secret not in str(entry.after) and token.key_hash not in str(entry.after)


def test_a_token_revoked_in_the_admin_is_refused_on_the_next_request(alpha):
    row, secret = api_token_create(tenant=alpha, name="dashboard")
    assert api_get(secret).status_code == 200
    client = admin_client(alpha, Role.ADMIN)

    with keep_schema():
        client.post("/admin/tenants/tenantapitoken/",
                    {"action": "revoke", "_selected_action": [row.pk]})

    response = api_get(secret)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API token was revoked."
    assert AuditEntry.objects.filter(action="revoke", object_id=str(row.pk)).exists()


@pytest.mark.parametrize("role", [Role.EDITOR, Role.AUDITOR])
def test_only_the_tenants_admins_see_or_make_tokens(alpha, role):
    row, secret = api_token_create(tenant=alpha, name="dashboard")
    client = admin_client(alpha, role)

    with keep_schema():
        answers = [
            client.get("/admin/tenants/tenantapitoken/").status_code,
            client.post("/admin/tenants/tenantapitoken/add/",
                        {"name": "mine", "scopes": ["write"], "expires": ""}).status_code,
            client.post("/admin/tenants/tenantapitoken/",
                        {"action": "revoke", "_selected_action": [row.pk]}).status_code,
        ]

    assert answers == [403, 403, 403]
    assert not ApiToken.objects.filter(name="mine").exists()
    assert api_get(secret).status_code == 200


def test_another_tenants_tokens_are_not_listed(alpha, beta):
    api_token_create(tenant=beta, name="beta-dashboard")
    client = admin_client(alpha, Role.ADMIN)
    with keep_schema():
        listing = client.get("/admin/tenants/tenantapitoken/")
    assert listing.status_code == 200
    assert "beta-dashboard" not in listing.content.decode()


def test_an_expired_token_is_refused_and_says_so(alpha):
    _, secret = api_token_create(tenant=alpha, name="temp",
                                 expires_at=timezone.now() + timedelta(hours=1))
    assert api_get(secret).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = api_get(secret)

    assert response.status_code == 401
    assert response.json()["detail"] == "This API token has expired."


def test_last_used_is_written_at_most_once_a_minute(alpha):
    row, secret = api_token_create(tenant=alpha, name="dashboard")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        api_get(secret)
        first = ApiToken.objects.get(pk=row.pk).last_used_at
        with CaptureQueriesContext(connection) as queries:
            api_get(secret)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        api_get(secret)
        later = ApiToken.objects.get(pk=row.pk).last_used_at

    assert first == start
    assert not [q for q in queries if q["sql"].startswith('UPDATE "tenants_apitoken"')]
    assert later == start + timedelta(minutes=2)


def test_create_key_makes_a_token_with_the_scopes_and_expiry_asked_for(tenants, capsys):
    call_command("create_key", "api", tenant="alpha", name="bot", scopes=["acknowledge", "read"],
                 expires_in_days=7)

    out = capsys.readouterr().out
    secret = re.search(r"\(shown once\): (\S+)", out).group(1)
    token = ApiToken.objects.get(name="bot")
    assert sorted(token.scopes) == ["acknowledge", "read"]
    assert "scopes acknowledge, read" in out and "expiring" in out
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    with tenant_context(tenants["alpha"]):
        entry = AuditEntry.objects.get()
    assert entry.after["scopes"] == ["acknowledge", "read"]
    assert secret not in str(entry.after)


def test_create_key_defaults_to_read_only_and_never_expiring(tenants, capsys):
    call_command("create_key", "api", tenant="alpha", name="dashboard")
    token = ApiToken.objects.get(name="dashboard")
    assert (token.scopes, token.expires_at) == (["read"], None)
    assert "never expiring" in capsys.readouterr().out


def test_ingest_keys_take_no_scopes(tenants):
    with pytest.raises(CommandError, match="Ingest keys only ingest"):
        call_command("create_key", "ingest", tenant="alpha", name="am", scopes=["read"])
