"""People's tests: members of alpha and beta, a local SMTP server carrying email pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from receivers.models import Receiver
from tenants.models import Role, TenantMembership
from tests.admin.conftest import member
from tests.factories import PersonFactory
from tests.receivers.smtp import Mailbox, smtp_server


def member_of(tenant, username: str, role: str = "auditor") -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com")
    TenantMembership.objects.create(user=user, tenant=tenant, role=Role(role))
    return user


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def email_carrier(alpha, mailbox) -> Receiver:
    """alpha's receiver that carries email pages, pointed at the local SMTP server."""
    return Receiver.objects.create(
        name="pager-mail", kind="email", carries_pages=True,
        config={"host": mailbox.host, "port": mailbox.port, "security": "none",
                "from_address": "herald@example.com", "to": ["ops@example.com"]},
    )


def link_in(mailbox: Mailbox, index: int = -1) -> str:
    """The confirmation link of a received mail, as a path (/contact/verify/<token>/)."""
    text = mailbox.received[index].message.get_content()
    return re.search(r"https?://[^/\s]+(/contact/verify/\S+/)", text).group(1)


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def profiles(alpha, beta) -> dict:
    """alice (auditor), bob (auditor), erin (editor), each with a profile; mallory of beta."""
    made = {}
    for name, role in (("alice", "auditor"), ("bob", "auditor"), ("erin", "editor")):
        user = member(alpha, name, role)
        made[name] = PersonFactory(user=user, display_name=name.title())
    made["mallory"] = member(beta, "mallory", "admin")
    return made


@pytest.fixture
def client_of(profiles):
    def make(name: str) -> Client:
        client = Client(HTTP_HOST="alpha.localhost")
        person = profiles[name]
        client.force_login(person.user if hasattr(person, "user") else person)
        return client

    return make
