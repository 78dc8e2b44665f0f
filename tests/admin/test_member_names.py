"""A tenant admin adds members by username: a name that cannot be added is a form
error (never a server error), worded the same whether the account exists or not."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection

from tenants.membership import UNKNOWN_MEMBER
from tenants.models import TenantMembership

ADD = "/admin/tenants/tenantmembership/add/"


def add(client, username: str):
    tenant = connection.tenant
    try:
        return client.post(ADD, {"username": username, "role": "editor"})
    finally:
        connection.set_tenant(tenant)


def test_unknown_and_unaddable_names_get_one_and_the_same_form_error(users, alpha, client_as):
    User.objects.create_user(username="gone", password="x", is_active=False)
    admin = client_as("admin")

    answers = [add(admin, name) for name in ("no-such-person", "operator", "gone")]

    for answer in answers:
        assert answer.status_code == 200
        assert answer.context["adminform"].form.errors == {"username": [UNKNOWN_MEMBER]}
    assert not TenantMembership.objects.filter(
        tenant=alpha, user__username__in=["operator", "gone"]
    ).exists()


def test_an_existing_account_is_added(users, alpha, client_as):
    User.objects.create_user(username="newcomer", password="x")

    answer = add(client_as("admin"), "newcomer")

    assert answer.status_code == 302
    assert TenantMembership.objects.get(tenant=alpha, user__username="newcomer").role == "editor"
