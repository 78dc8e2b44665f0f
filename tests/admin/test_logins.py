"""An attacker guesses passwords on both admins: locked out by name and by address,
audited, and unlocked by an operator."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from alerting.audit.models import AuditEntry
from tests.admin.conftest import PASSWORD

LOGIN = "/admin/login/?next=/admin/"


def attempt(client: Client, username: str, password: str, *, ip: str = "203.0.113.7"):
    tenant = connection.tenant
    try:
        return client.post(LOGIN, {"username": username, "password": password},
                           REMOTE_ADDR=ip)
    finally:
        connection.set_tenant(tenant)


def actions(schema: str) -> list[tuple[str, str]]:
    with schema_context(schema):
        return list(AuditEntry.objects.order_by("id").values_list("action", "actor"))


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def test_wrong_passwords_lock_the_account_and_even_the_right_one_is_refused(users, alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    answers = [attempt(client, "editor-alpha", f"guess-{n}").status_code for n in range(3)]
    locked = attempt(client, "editor-alpha", PASSWORD)

    assert answers[:2] == [200, 200]  # the form again, with its error
    assert answers[2] == 429
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session
    recorded = actions(alpha.schema_name)
    assert recorded.count(("login_failed", "editor-alpha")) == 2
    assert ("login_locked_out", "editor-alpha") in recorded
    assert ("login", "editor-alpha") not in recorded


def test_the_same_name_is_locked_from_any_address(users, alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    for n in range(3):
        attempt(client, "editor-alpha", "wrong", ip=f"198.51.100.{n + 1}")
    assert attempt(client, "editor-alpha", PASSWORD, ip="192.0.2.50").status_code == 429


def test_an_address_guessing_many_names_is_locked_for_every_name(users, alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    for name in ("admin", "root", "ops"):
        attempt(client, name, "wrong", ip="203.0.113.99")
    # The real member, with the right password, from that address: refused.
    assert attempt(client, "auditor-alpha", PASSWORD, ip="203.0.113.99").status_code == 429
    # From elsewhere, the member gets in.
    assert attempt(client, "auditor-alpha", PASSWORD, ip="192.0.2.80").status_code == 302


def test_an_operator_unlocks_from_the_operators_admin(users, alpha, caplog):
    caplog.set_level(logging.INFO, logger="herald.audit")
    tenant_client = Client(HTTP_HOST="alpha.localhost")
    for n in range(3):
        attempt(tenant_client, "editor-alpha", f"guess-{n}")
    assert attempt(tenant_client, "editor-alpha", PASSWORD).status_code == 429

    operator = Client(HTTP_HOST="127.0.0.1")
    assert attempt(operator, "operator", PASSWORD, ip="192.0.2.1").status_code == 302
    listed = operator.get("/admin/axes/accessattempt/")
    connection.set_tenant(alpha)
    assert listed.status_code == 200
    assert b"editor-alpha" in listed.content
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    unlocked = operator.post("/admin/axes/accessattempt/",
                             {"action": "unlock", "_selected_action": ids})
    connection.set_tenant(alpha)
    assert unlocked.status_code == 302

    assert attempt(tenant_client, "editor-alpha", PASSWORD).status_code == 302
    assert [(r.audit["action"], r.audit["actor"]) for r in caplog.records
            if hasattr(r, "audit")] == [("login", "operator"), ("login_unlocked", "operator")]


def test_axes_reset_unlocks_from_the_shell(users, alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    for n in range(3):
        attempt(client, "admin-alpha", f"guess-{n}")
    assert attempt(client, "admin-alpha", PASSWORD).status_code == 429

    call_command("axes_reset", verbosity=0)

    assert attempt(client, "admin-alpha", PASSWORD).status_code == 302


def test_logins_on_the_operators_admin_go_to_the_audit_log_stream(users, alpha, caplog):
    caplog.set_level(logging.INFO, logger="herald.audit")
    client = Client(HTTP_HOST="127.0.0.1")
    attempt(client, "operator", "not it", ip="192.0.2.9")
    attempt(client, "operator", PASSWORD, ip="192.0.2.9")

    lines = [r for r in caplog.records if r.name == "herald.audit"]
    assert [(r.audit["action"], r.audit["actor"], r.audit["ip"]) for r in lines] == [
        ("login_failed", "operator", "192.0.2.9"), ("login", "operator", "192.0.2.9"),
    ]
    assert all("not it" not in r.getMessage() and PASSWORD not in str(r.audit) for r in lines)


def test_behind_a_proxy_the_forwarded_client_is_locked_not_the_proxy(users, alpha, settings):
    settings.HERALD_TRUSTED_PROXY_HOPS = 1
    client = Client(HTTP_HOST="alpha.localhost")

    def through_proxy(username, password, *, client_address, forged=""):
        tenant = connection.tenant
        try:
            return client.post(LOGIN, {"username": username, "password": password},
                               REMOTE_ADDR="10.0.0.2",  # the proxy
                               HTTP_X_FORWARDED_FOR=f"{forged}{client_address}")
        finally:
            connection.set_tenant(tenant)

    for name in ("admin", "root", "ops"):
        # A forged leftmost entry changes nothing: the proxy's own entry counts.
        through_proxy(name, "wrong", client_address="203.0.113.5", forged=f"192.0.2.{len(name)}, ")
    assert through_proxy("editor-alpha", PASSWORD, client_address="203.0.113.5").status_code == 429
    assert through_proxy("editor-alpha", PASSWORD, client_address="198.51.100.8").status_code == 302
