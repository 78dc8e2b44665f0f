"""On her person page, a member sees whether her number is verified, asks for a code and
enters it; someone else's number she may only read."""

from __future__ import annotations

import json
import re

import pytest

from escalation.models import ContactMethod
from receivers.models import Receiver
from tests.admin.test_permissions import get, post
from tests.factories import ContactMethodFactory
from tests.receivers.phone.phone_channel import loopback_phone  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_phone")]

PEOPLE = "/admin/escalation/person/"


@pytest.fixture
def phone(alpha, httpserver):
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    return Receiver.objects.create(name="phone", kind="loopphone", carries_pages=True,
                                   config={"url": httpserver.url_for("/phone")})


def messages_of(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip()
            for m in re.findall(r'<li class="[a-z]+">(.*?)</li>', page, re.S)]


def test_a_member_verifies_her_number_from_her_page(profiles, client_of, phone, httpserver):
    alice = profiles["alice"]
    number = ContactMethodFactory(person=alice, kind="sms", address="+4915123456789",
                                  verified_at=None)
    client = client_of("alice")
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "Unverified: not paged" in page and ">Send code</button>" in page
    assert ">Enter code</button>" not in page  # no code waits yet

    sent = post(client, f"{PEOPLE}{alice.pk}/code/{number.pk}/send/", {})
    assert sent.status_code == 302
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "A code was sent by SMS to +4915123456789: enter it here." in messages_of(page)
    assert f'name="verification_code_{number.pk}"' in page and ">Enter code</button>" in page

    code = re.search(r"\d{6}", json.loads(httpserver.log[-1][0].get_data())["text"]).group()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    post(client, f"{PEOPLE}{alice.pk}/code/{number.pk}/verify/",
         {f"verification_code_{number.pk}": wrong})
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "+4915123456789: That is not the code. 4 more tries." in messages_of(page)

    post(client, f"{PEOPLE}{alice.pk}/code/{number.pk}/verify/",
         {f"verification_code_{number.pk}": code})
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "+4915123456789 is verified: it will be paged." in messages_of(page)
    assert ContactMethod.objects.get(pk=number.pk).verified
    assert 'class="verified">Verified' in page


def test_an_auditor_cannot_send_or_enter_codes_for_someone_else(
    profiles, client_of, phone, httpserver
):
    bob = profiles["bob"]
    number = ContactMethodFactory(person=bob, kind="voice", address="+4915123456789",
                                  verified_at=None)
    client = client_of("alice")

    page = get(client, f"{PEOPLE}{bob.pk}/change/").content.decode()
    assert "Unverified: not paged" in page and "Send code" not in page
    assert post(client, f"{PEOPLE}{bob.pk}/code/{number.pk}/send/", {}).status_code == 403
    assert post(client, f"{PEOPLE}{bob.pk}/code/{number.pk}/verify/",
                {f"verification_code_{number.pk}": "123456"}).status_code == 403
    assert httpserver.log == []


def test_without_a_carrier_the_page_says_what_to_do(profiles, client_of):
    alice = profiles["alice"]
    number = ContactMethodFactory(person=alice, kind="sms", address="+4915123456789",
                                  verified_at=None)
    client = client_of("alice")

    post(client, f"{PEOPLE}{alice.pk}/code/{number.pk}/send/", {})

    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert any("No enabled receiver carries sms pages to +4915123456789" in m
               for m in messages_of(page))


def test_in_french_the_number_and_its_buttons_read_in_french(profiles, client_of, phone):
    alice = profiles["alice"]
    alice.language = "fr"  # her profile says so
    alice.save(update_fields=["language"])
    number = ContactMethodFactory(person=alice, kind="sms", address="+4915123456789",
                                  verified_at=None)
    client = client_of("alice")
    post(client, f"{PEOPLE}{alice.pk}/code/{number.pk}/send/", {})
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "Non vérifiée : pas d&#x27;appel (code envoyé le " in page
    assert ">Envoyer le code</button>" in page and ">Saisir le code</button>" in page
    assert 'aria-label="Le code envoyé à +4915123456789"' in page
