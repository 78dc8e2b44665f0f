"""The "link your account" page: a signed-in member binds the Slack user the link names to them."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from escalation.models import ContactMethod
from receivers.slack_bot.interactions import link_reply
from tests.factories import ContactMethodFactory, PersonFactory, UserFactory


def link_path(tenant, user_id="U0ALICE"):
    """The path of the link an unlinked Slack user is sent (in the tenant's schema)."""
    url = re.search(r"<([^|>]+)\|", link_reply(user_id=user_id, user_name="alice")).group(1)
    # On the tenant's own host, where its members log in.
    assert urlsplit(url).hostname == f"{tenant.slug}.localhost"
    return urlsplit(url).path


def member_client(user, host="alpha.localhost"):
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def alice(alpha):
    return PersonFactory(user__username="alice", display_name="Alice")


def test_a_member_who_opens_the_link_and_confirms_is_linked(alpha, alice):
    path = link_path(alpha)
    client = member_client(alice.user)
    page = client.get(path)
    assert page.status_code == 200 and "U0ALICE" in page.content.decode()
    assert not ContactMethod.objects.filter(kind="slack_app").exists()

    done = client.post(path)
    assert done.status_code == 200 and "Slack account linked" in done.content.decode()
    method = ContactMethod.objects.get(kind="slack_app")
    assert (method.person, method.address, method.verified) == (alice, "U0ALICE", True)


def test_someone_not_logged_in_is_sent_to_log_in_first(alpha, alice):
    response = Client(HTTP_HOST="alpha.localhost").get(link_path(alpha))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_another_tenants_link_links_nothing_here(alpha, beta, alice):
    with tenant_context(beta):
        theirs = link_path(beta)
    # On alpha's host, beta's link; and alpha's slug on beta's signature.
    for path in (theirs, theirs.replace("/slack/link/beta:", "/slack/link/alpha:")):
        response = member_client(alice.user).post(path)
        assert response.status_code == 400
    assert not ContactMethod.objects.filter(kind="slack_app").exists()


def test_a_tampered_link_links_nothing(alpha, alice):
    path = link_path(alpha)
    tampered = path.replace("U0ALICE", "U0MALLORY")
    response = member_client(alice.user).post(tampered[:-3] + "xx/")
    assert response.status_code == 400
    assert not ContactMethod.objects.filter(kind="slack_app").exists()


def test_an_expired_link_says_so(alpha, alice):
    path = link_path(alpha)
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        response = member_client(alice.user).post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_user_who_is_not_a_member_of_the_tenant_links_nothing(alpha):
    outsider = UserFactory(username="outsider")
    response = member_client(outsider).post(link_path(alpha))
    assert response.status_code == 403
    assert not ContactMethod.objects.filter(kind="slack_app").exists()


def test_a_slack_account_linked_to_someone_else_stays_theirs(alpha, alice):
    bob = PersonFactory(user__username="bob", display_name="Bob")
    ContactMethodFactory(person=bob, kind="slack_app", address="U0ALICE")
    response = member_client(alice.user).post(link_path(alpha))
    assert response.status_code == 409
    assert "already linked to Bob" in response.content.decode()
    assert list(ContactMethod.objects.filter(kind="slack_app").values_list("person", flat=True)
                ) == [bob.id]
