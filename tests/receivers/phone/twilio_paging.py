"""A person paged through a Twilio receiver, for the callback tests (fixtures to import).

Alice has a verified SMS number and the same number for calls; her rules
text her at once and call her after 5 minutes. The tests fire through
ingest, run the escalation tick and deliver to the stand-in Twilio API.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.factories import ContactMethodFactory, PersonFactory, ReceiverFactory
from tests.ingest import keep_schema, public_client
from tests.receivers.phone.twilio_standin import PERSON, TOKEN, TwilioApi, sign, twilio_config


@pytest.fixture
def api(httpserver) -> TwilioApi:
    return TwilioApi(httpserver)


@pytest.fixture
def phone(alpha, api, httpserver):
    """The receiver that carries SMS and voice pages."""
    return ReceiverFactory(name="phone", kind="twilio", carries_pages=True,
                           config=twilio_config(httpserver), secrets={"auth_token": TOKEN})


def phone_person(name: str, number: str, *, first: str = "sms", then: str | None = "voice",
                 membership: str = "auditor"):
    person = PersonFactory(user__username=name.lower(), display_name=name, membership=membership)
    first_method = ContactMethodFactory(person=person, kind=first, address=number)
    person.notification_rules.create(contact_method=first_method, delay_minutes=0)
    if then:
        method = ContactMethodFactory(person=person, kind=then, address=number)
        person.notification_rules.create(contact_method=method, delay_minutes=5)
    return person


@pytest.fixture
def alice(alpha):
    return phone_person("Alice", PERSON)


def deliver_pending() -> None:
    for notification in Notification.objects.filter(state="pending").order_by("id"):
        notification_deliver(notification_id=notification.id)


def pages_sent(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(page__isnull=False, contact_kind=kind).order_by("id"))


def callback(path: str, form: dict, *, signature: str | None = None, token: str = TOKEN,
             tamper: dict | None = None):
    """Post to Herald as Twilio does: the form signed for the public URL of `path`."""
    url = settings.HERALD_BASE_URL.rstrip("/") + path
    headers = {}
    if signature != "":
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature or sign(url, form, token)
    with keep_schema():
        return public_client().post(path, data={**form, **(tamper or {})}, **headers)
