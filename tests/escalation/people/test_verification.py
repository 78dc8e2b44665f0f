"""A contact method is confirmed by the link in a mail sent through the tenant's page carrier.

The mail really travels to a local SMTP server; the link in it is opened
through Herald's URLs. A forged, altered, stale or foreign link changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from escalation.models import ContactMethod
from escalation.people.services import (
    VerificationSendError,
    contact_method_create,
    contact_method_update,
    contact_method_verification_send,
)
from escalation.people.verification import verification_token
from tests.escalation.people.conftest import link_in
from tests.factories import PersonFactory
from tests.ingest import keep_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def method(alpha):
    person = PersonFactory(display_name="Alice")
    return contact_method_create(person=person, kind="email", address="alice@example.com")


def open_link(path: str, host: str = "127.0.0.1"):
    with keep_schema():
        return Client(HTTP_HOST=host).get(path)


def test_the_mail_goes_to_the_address_and_its_link_verifies_it(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)

    (mail,) = mailbox.received
    assert mail.rcpt_tos == ["alice@example.com"]
    assert mail.message["From"] == "herald@example.com"
    assert mail.message["Subject"] == "Confirm your address for Herald (Alpha)"
    assert "Hello Alice" in mail.message.get_content()
    method.refresh_from_db()
    assert method.verification_sent_at is not None and not method.verified

    page = open_link(link_in(mailbox))

    assert page.status_code == 200
    assert b"Address confirmed" in page.content and b"alice@example.com" in page.content
    method.refresh_from_db()
    assert method.verified
    assert AuditEntry.objects.filter(action="contact_method_verify",
                                     actor="link:alice@example.com").exists()
    again = open_link(link_in(mailbox))
    assert again.status_code == 200 and b"was already confirmed" in again.content


def test_the_link_also_works_on_the_tenants_own_host(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)

    page = open_link(link_in(mailbox), host="alpha.localhost")

    assert page.status_code == 200
    method.refresh_from_db()
    assert method.verified


def test_a_second_mail_within_a_minute_is_refused(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)

    with pytest.raises(ValidationError) as excinfo:
        contact_method_verification_send(contact_method=method)
    assert "less than a minute ago" in excinfo.value.message_dict["verification_sent_at"][0]
    assert len(mailbox.received) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        contact_method_verification_send(contact_method=method)
    assert len(mailbox.received) == 2


def test_without_a_carrier_of_email_pages_the_member_is_told_what_to_do(method, mailbox):
    with pytest.raises(VerificationSendError, match="No receiver carries email pages"):
        contact_method_verification_send(contact_method=method)

    method.refresh_from_db()
    assert method.verification_sent_at is None  # nothing went out: a retry may follow at once


def test_a_failed_mail_says_why_and_allows_a_retry_at_once(method, email_carrier, mailbox):
    mailbox.refuse_with = "554 no thanks"

    refused = r"could not be sent through pager-mail: SMTP 554"
    with pytest.raises(VerificationSendError, match=refused):
        contact_method_verification_send(contact_method=method)

    mailbox.refuse_with = None
    contact_method_verification_send(contact_method=method)
    assert len(mailbox.received) == 1


def test_a_verified_method_is_not_mailed_again(method, email_carrier, mailbox):
    method.verified_at = timezone.now()
    method.save()

    with pytest.raises(ValidationError):
        contact_method_verification_send(contact_method=method)
    assert mailbox.received == []


def test_a_changed_address_needs_a_new_confirmation(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)
    old_link = link_in(mailbox)
    contact_method_update(contact_method=method, address="alice@example.org", label="")

    page = open_link(old_link)

    assert page.status_code == 410
    assert b"address that has since changed" in page.content
    method.refresh_from_db()
    assert not method.verified

    contact_method_verification_send(contact_method=method)
    assert mailbox.received[-1].rcpt_tos == ["alice@example.org"]
    assert open_link(link_in(mailbox)).status_code == 200
    method.refresh_from_db()
    assert method.verified and method.address == "alice@example.org"


def test_an_address_changed_back_and_forth_is_still_unverified_after_the_change(
    method, email_carrier, mailbox
):
    contact_method_verification_send(contact_method=method)
    assert open_link(link_in(mailbox)).status_code == 200
    contact_method_update(contact_method=method, address="alice@example.org", label="")

    method.refresh_from_db()
    assert not method.verified


def test_a_forged_or_altered_token_is_refused_and_changes_nothing(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)
    good = link_in(mailbox).removeprefix("/contact/verify/").removesuffix("/")
    slug, _, signed = good.partition(":")
    forged = [
        f"{slug}:{signed[:-3]}abc",           # signature changed
        f"{slug}:{signed.replace('a', 'b', 1)}",  # value changed
        "alpha:not-a-token",
        "nosuchtenant:" + signed,
        "x" * 5000,
    ]
    for token in forged:
        page = open_link(f"/contact/verify/{token}/")
        assert 400 <= page.status_code < 500, token
        assert b"cannot be used" in page.content
    method.refresh_from_db()
    assert not method.verified


def test_a_token_made_with_the_shared_secret_key_instead_of_the_tenants_is_refused(method):
    from django.core import signing

    signed = signing.TimestampSigner(salt="herald.contact-method-verification").sign_object(
        {"t": "alpha", "m": method.pk, "a": method.address}
    )

    assert open_link(f"/contact/verify/alpha:{signed}/").status_code == 400
    method.refresh_from_db()
    assert not method.verified


def test_another_tenants_token_is_refused(alpha, beta, method):
    with tenant_context(beta):
        stranger = PersonFactory()
        theirs = contact_method_create(person=stranger, kind="email", address="eve@example.com")
    # Beta's link names alpha's method id: signed by beta, so alpha's keys refuse it;
    # and on alpha's own host, beta's link for beta's own method is refused too.
    as_alpha = verification_token(tenant=beta, contact_method_id=method.pk,
                                  address=method.address).replace("beta:", "alpha:", 1)
    assert open_link(f"/contact/verify/{as_alpha}/").status_code == 400
    own = verification_token(tenant=beta, contact_method_id=theirs.pk, address=theirs.address)
    assert open_link(f"/contact/verify/{own}/", host="alpha.localhost").status_code == 400

    method.refresh_from_db()
    assert not method.verified
    with tenant_context(beta):
        assert not ContactMethod.objects.get(pk=theirs.pk).verified


def test_an_expired_link_is_gone(method, email_carrier, mailbox):
    contact_method_verification_send(contact_method=method)

    with time_machine.travel(timezone.now() + timedelta(days=4)):
        page = open_link(link_in(mailbox))

    assert page.status_code == 410
    method.refresh_from_db()
    assert not method.verified


def test_the_mail_uses_the_carriers_starttls_and_login_and_never_shows_its_password(
    alpha, method, tmp_path, monkeypatch
):
    from receivers.models import Receiver
    from tests.receivers.smtp import PASSWORD, USERNAME, self_signed_certificate, smtp_server

    cert = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with smtp_server(cert=cert) as mailbox:
        Receiver.objects.create(
            name="pager-mail", kind="email", carries_pages=True,
            config={"host": "localhost", "port": mailbox.port, "security": "starttls",
                    "username": USERNAME, "from_address": "herald@example.com",
                    "to": ["ops@example.com"]},
            secrets={"password": PASSWORD},
        )
        contact_method_verification_send(contact_method=method)
        assert mailbox.logins == [USERNAME]
        assert mailbox.received[0].rcpt_tos == ["alice@example.com"]

        Receiver.objects.filter(name="pager-mail").update(config={
            "host": "localhost", "port": mailbox.port, "security": "starttls",
            "username": "wrong", "from_address": "herald@example.com", "to": ["o@example.com"]})
        later = time_machine.travel(timezone.now() + timedelta(minutes=2))
        with later, pytest.raises(VerificationSendError) as excinfo:
            contact_method_verification_send(contact_method=method)
    assert "SMTP 535" in str(excinfo.value) and PASSWORD not in str(excinfo.value)
