"""A phone carrier's country prefixes in the admin: a prefix another carrier holds is an
error on the form, never a 500, and nothing is saved."""

from __future__ import annotations

import pytest

from receivers.models import Receiver
from tests.admin.test_permissions import get, post
from tests.receivers.phone.phone_channel import loopback_phone  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("loopback_phone")


def form(name: str, prefixes: str) -> dict:
    return {"name": name, "enabled": "on", "max_attempts": 3, "language": "en",
            "url": "http://127.0.0.1:9/phone", "country_prefixes": prefixes,
            "price_per_sms": "0.05", "price_per_call": "0.20", "mode": "sms"}


def test_a_prefix_held_by_another_carrier_is_a_form_error(alpha, client_as):
    Receiver.objects.create(name="germany", kind="loopphone", carries_pages=True,
                            config={"url": "http://127.0.0.1:9/phone",
                                    "country_prefixes": ["+49"]})
    austria = Receiver.objects.create(name="austria", kind="loopphone", carries_pages=True,
                                      config={"url": "http://127.0.0.1:9/phone",
                                              "country_prefixes": ["+43"]})
    client = client_as("admin")
    url = f"/admin/receivers/receiver/{austria.pk}/change/"
    assert 'name="country_prefixes"' in get(client, url).content.decode()

    response = post(client, url, form("austria", '["+43", "+49"]'))

    assert response.status_code == 200
    assert ("+49 is claimed twice for sms pages (&#x27;germany&#x27; claims it already)"
            in response.content.decode())
    assert Receiver.objects.get(pk=austria.pk).config["country_prefixes"] == ["+43"]

    saved = post(client, url, form("austria", '["+43", "+41"]'))
    assert saved.status_code == 302
    assert Receiver.objects.get(pk=austria.pk).config["country_prefixes"] == ["+43", "+41"]
