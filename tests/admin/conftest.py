"""Users in each role of tenant alpha, and test clients logged in as them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tenants.models import Role, TenantMembership

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "editor", "auditor")


def member(tenant, username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    if role:
        TenantMembership.objects.create(user=user, tenant=tenant, role=Role(role))
    return user


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    # PBKDF2's deliberate slowness costs seconds per test and proves nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(alpha, beta) -> dict[str, User]:
    """One member of alpha per role, a member of beta only, and an operator."""
    made = {role: member(alpha, f"{role}-alpha", role) for role in ROLES}
    made["outsider"] = member(beta, "editor-beta", "editor")
    made["operator"] = User.objects.create_superuser(
        username="operator", password=PASSWORD, email="ops@example.com"
    )
    return made


@pytest.fixture
def client_as(users):
    """A client on alpha's admin host, logged in as the given role (None: anonymous)."""

    def make(role: str | None, host: str = "alpha.localhost") -> Client:
        client = Client(HTTP_HOST=host)
        if role:
            client.force_login(users[role])
        return client

    return make
