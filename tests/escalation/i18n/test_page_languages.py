"""The pages behind a message's links speak the reader's language.

A page's link names its person: the page is in their profile's language,
whatever the browser asks for. A channel's link names nobody, so the browser's
Accept-Language decides.
"""

from __future__ import annotations

import pytest
from django.test import Client

from escalation.links import action_token, person_recipient
from tests.factories import AlertGroupFactory, PersonFactory
from tests.ingest import keep_schema


@pytest.fixture
def group(alpha):
    return AlertGroupFactory(common_labels={"alertname": "DiskFull"})


def token(tenant, group, *, recipient: str, channel: str = "") -> str:
    return action_token(tenant=tenant, alert_group_id=group.id, incident=group.incident,
                        recipient=recipient, channel=channel)


def open_page(path: str, *, accept_language: str = "", post: bool = False):
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True,
                    HTTP_ACCEPT_LANGUAGE=accept_language)
    with keep_schema():
        page = client.get(path)
        if not post:
            return page
        return client.post(path, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value})


def text(page) -> str:
    return page.content.decode()


def test_a_persons_ack_page_is_in_their_language_not_the_browsers(alpha, group):
    person = PersonFactory(display_name="Amélie", language="fr")
    link = token(alpha, group, recipient=person_recipient(person.id), channel="email")

    page = open_page(f"/ack/{link}/", accept_language="de-DE,de;q=0.9")

    assert page.status_code == 200
    assert '<html lang="fr">' in text(page)
    assert "Acquitter DiskFull" in text(page)  # the title
    assert "Envoyé à Amélie pour l'incident" in text(page)
    assert "Acquitter : je m'en occupe" in text(page)


def test_acknowledging_from_a_german_persons_page_says_so_in_german(alpha, group):
    person = PersonFactory(display_name="Jonas", language="de")
    link = token(alpha, group, recipient=person_recipient(person.id), channel="sms")

    page = open_page(f"/ack/{link}/", accept_language="en", post=True)

    assert page.status_code == 200
    assert "Bestätigt. Die Eskalation ist gestoppt." in text(page)
    group.refresh_from_db()
    assert group.acknowledged_at is not None


@pytest.mark.parametrize(("accept", "expected"), [
    ("fr-FR,fr;q=0.9,en;q=0.5", "Acquitter : je m'en occupe"),
    ("de-CH, de;q=0.8", "Bestätigen: Ich kümmere mich darum"),
    ("es-ES,es;q=0.9", "Acknowledge: I am on it"),
])
def test_a_channels_ack_page_follows_the_browser(alpha, group, accept, expected):
    link = token(alpha, group, recipient="oncall-slack")

    page = open_page(f"/ack/{link}/", accept_language=accept)

    assert page.status_code == 200
    assert expected in text(page)


def test_a_bad_link_is_explained_in_the_browsers_language(alpha):
    page = open_page("/ack/alpha:nonsense/", accept_language="fr")

    assert page.status_code == 400
    assert "Ce lien d'acquittement est inutilisable" in text(page)
    assert "Ce lien n&#x27;est pas valide." in text(page)  # the message, escaped


def test_the_action_page_and_its_outcome_are_in_the_persons_language(alpha, group):
    person = PersonFactory(display_name="Jonas", language="de", membership="editor")
    link = action_token(tenant=alpha, alert_group_id=group.id, incident=group.incident,
                        recipient=person_recipient(person.id), channel="email", action="resolve")

    shown = open_page(f"/act/{link}/", accept_language="fr")
    done = open_page(f"/act/{link}/", accept_language="fr", post=True)

    assert "Status:" in text(shown) and "ausgelöst" in text(shown)
    assert "<button type=\"submit\">Auflösen</button>" in text(shown)
    assert "Aufgelöst von Jonas." in text(done)
