"""Browser test: a member asks for a code for her new number on her person page, types
what her phone got, and the number is verified. Real Chromium, live server, a local
server standing in for the phone provider."""

from __future__ import annotations

import json
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from escalation.models import ContactMethod
from receivers.models import Receiver
from tests.browser.conftest import log_in
from tests.factories import ContactMethodFactory, PersonFactory
from tests.receivers.phone.phone_channel import loopback_phone  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e,
              pytest.mark.usefixtures("loopback_phone")]


@pytest.fixture
def alpha(committed_tenants):
    return committed_tenants["alpha"]


def test_a_member_verifies_her_number_with_the_code_her_phone_got(
    page, screenshot, tenant_url, member, alpha, httpserver
):
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    alice = member("alice", "auditor")
    with tenant_context(alpha):
        person = PersonFactory(user=alice, display_name="Alice", language="fr")
        number = ContactMethodFactory(person=person, kind="sms", address="+33612345678",
                                      verified_at=None)
        Receiver.objects.create(name="phone", kind="loopphone", carries_pages=True,
                                config={"url": httpserver.url_for("/phone")})
    base = tenant_url("alpha")
    log_in(page, base, "alice")

    # Alice reads French (her profile): the number's state, its buttons, the messages.
    page.goto(f"{base}/admin/escalation/person/{person.pk}/change/")
    status = page.locator(".field-status").first
    expect(status).to_contain_text("Non vérifiée : pas d'appel")
    page.click("text=Envoyer le code")
    expect(page.locator(".messagelist")).to_contain_text(
        "Un code a été envoyé par SMS au +33612345678 : saisissez-le ici.")
    text = json.loads(httpserver.log[-1][0].get_data())["text"]
    assert text.startswith("Votre code Herald pour Alpha est ")  # in her language
    code = re.search(r"\d{6}", text).group()

    page.fill(f"input[name=verification_code_{number.pk}]", code)
    screenshot("phone-01-enter-code")
    page.click("text=Saisir le code")

    expect(page.locator(".messagelist")).to_contain_text(
        "+33612345678 est vérifiée : elle sera appelée.")
    expect(page.locator(".field-status").first).to_contain_text("Vérifiée le ")
    with tenant_context(alpha):
        assert ContactMethod.objects.get(pk=number.pk).verified
    assert violations == []
