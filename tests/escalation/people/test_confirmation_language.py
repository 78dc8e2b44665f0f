"""The confirmation mail and the page its link opens speak the person's language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from escalation.people.services import contact_method_create, contact_method_verification_send
from tests.escalation.people.conftest import link_in
from tests.factories import PersonFactory
from tests.ingest import keep_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    yield  # the language middleware leaves the page's language active in the thread
    translation.activate(settings.LANGUAGE_CODE)


def test_a_german_person_gets_the_mail_and_the_page_in_german(alpha, email_carrier, mailbox):
    person = PersonFactory(display_name="Jonas", language="de")
    method = contact_method_create(person=person, kind="email", address="jonas@example.com")

    contact_method_verification_send(contact_method=method)

    (mail,) = mailbox.received
    assert mail.message["Subject"] == "Bestätigen Sie Ihre Adresse für Herald (Alpha)"
    body = mail.message.get_content()
    assert body.startswith("Hallo Jonas,")
    assert "Herald (Alpha) alarmiert Sie unter jonas@example.com" in body
    with keep_schema():
        page = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="fr").get(link_in(mailbox))
    assert page.status_code == 200
    assert "Adresse bestätigt" in page.content.decode()
    assert "Danke, Jonas: Herald darf Sie jetzt unter jonas@example.com alarmieren." in (
        page.content.decode())


def test_a_bad_confirmation_link_is_explained_in_the_browsers_language(alpha):
    with keep_schema():
        page = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="fr-FR,fr").get(
            "/contact/verify/alpha:forged/")

    assert page.status_code in (400, 404)
    assert "Ce lien de confirmation est inutilisable" in page.content.decode()
