"""A member who forgot their password gets a reset mail; nobody learns which
addresses have an account, and a flood of requests sends a few mails only."""

from __future__ import annotations

import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.admin.conftest import PASSWORD
from tests.receivers.smtp import smtp_server

_addresses = itertools.count(1)


@pytest.fixture
def mailbox(settings):
    with smtp_server() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = box.host, box.port
        settings.EMAIL_USE_TLS = False
        yield box


@pytest.fixture
def client() -> Client:
    # An address of this test's own: the limit also counts per client address.
    return Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR=f"198.18.0.{next(_addresses)}")


def request_reset(client: Client, email: str):
    tenant = connection.tenant
    try:
        return client.post("/admin/password_reset/", {"email": email})
    finally:
        connection.set_tenant(tenant)


def test_the_login_page_offers_a_reset(users, client):
    page = client.get("/admin/login/")
    assert b'href="/admin/password_reset/"' in page.content


def test_a_member_resets_the_password_by_mail_and_logs_in_with_the_new_one(
    users, alpha, mailbox, client
):
    users["editor"].email = "editor@example.com"
    users["editor"].save()

    answer = request_reset(client, "editor@example.com")

    assert answer.status_code == 302 and answer["Location"] == "/admin/password_reset/done/"
    assert len(mailbox.received) == 1
    mail = mailbox.received[0]
    assert mail.rcpt_tos == ["editor@example.com"]
    body = mail.message.get_content()
    link = re.search(r"http://alpha\.localhost(/admin/reset/\S+/)", body).group(1)

    form = client.get(link, follow=True)
    connection.set_tenant(alpha)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a brand new passphrase 42",
                                 "new_password2": "a brand new passphrase 42"})
    connection.set_tenant(alpha)
    assert done.status_code == 302 and done["Location"] == "/admin/reset/done/"
    editor = User.objects.get(pk=users["editor"].pk)
    assert editor.check_password("a brand new passphrase 42")
    assert not editor.check_password(PASSWORD)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(users, mailbox, client):
    users["editor"].email = "known@example.com"
    users["editor"].save()

    known = request_reset(client, "known@example.com")
    unknown = request_reset(client, "nobody@example.com")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [mail.rcpt_tos for mail in mailbox.received] == [["known@example.com"]]


def test_a_flood_of_requests_for_one_address_sends_a_few_mails_only(
    users, mailbox, settings
):
    settings.HERALD_PASSWORD_RESET_RATE_LIMIT = "2/hour"
    users["auditor"].email = "flooded@example.com"
    users["auditor"].save()

    answers = {
        request_reset(Client(HTTP_HOST="alpha.localhost", REMOTE_ADDR=f"198.19.{n}.1"),
                      "flooded@example.com")["Location"]
        for n in range(5)
    }

    assert answers == {"/admin/password_reset/done/"}  # the same answer every time
    assert len(mailbox.received) == 2
