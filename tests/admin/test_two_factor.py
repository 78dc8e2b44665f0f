"""A tenant requires two-factor: a member without an authenticator cannot reach the
admin until they enrol one; a member with one gets in with its current code only."""

from __future__ import annotations

import base64
import re

import pytest
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.admin.conftest import PASSWORD


def code(key: bytes, *, step_offset: int = 0) -> str:
    """What the member's authenticator app shows now (RFC 6238, 30 s steps)."""
    return f"{totp(key, drift=step_offset):06d}"


def request(client: Client, method: str, path: str, data=None):
    tenant = connection.tenant
    try:
        return getattr(client, method)(path, data or {})
    finally:
        connection.set_tenant(tenant)


@pytest.fixture(autouse=True)
def _no_wait_between_tries(settings):
    # django-otp makes each failed code double the wait before the next try;
    # these stories try a wrong code and then the right one at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def strict_alpha(alpha):
    alpha.require_two_factor = True
    alpha.save(update_fields=["require_two_factor"])
    return alpha


def test_a_member_without_a_device_is_kept_out_until_enrolled(users, strict_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    logged_in = request(client, "post", "/admin/login/?next=/admin/",
                        {"username": "editor-alpha", "password": PASSWORD})
    assert logged_in.status_code == 302

    index = request(client, "get", "/admin/")
    assert index.status_code == 302 and index["Location"].startswith("/admin/login/")
    sent_on = request(client, "get", index["Location"])
    assert sent_on.status_code == 302 and sent_on["Location"] == "/admin/two-factor/"
    assert request(client, "get", "/admin/receivers/receiver/").status_code == 302

    page = request(client, "get", "/admin/two-factor/")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml' in page.content  # the QR code
    assert "no-store" in page["Cache-Control"]  # the secret stays out of caches
    secret = re.search(rb'id="totp-secret">([A-Z2-7=]+)<', page.content).group(1)
    key = base64.b32decode(secret)

    wrong = request(client, "post", "/admin/two-factor/", {"token": "000000"
                    if code(key) != "000000" else "111111"})
    assert wrong.status_code == 200 and b"not valid" in wrong.content
    confirmed = request(client, "post", "/admin/two-factor/", {"token": code(key)})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/admin/"

    assert request(client, "get", "/admin/").status_code == 200
    assert TOTPDevice.objects.get(user=users["editor"]).confirmed


def test_a_member_with_a_device_needs_its_current_code(users, strict_alpha):
    device = TOTPDevice.objects.create(user=users["auditor"], name="phone", confirmed=True)
    client = Client(HTTP_HOST="alpha.localhost")

    without = request(client, "post", "/admin/login/?next=/admin/",
                      {"username": "auditor-alpha", "password": PASSWORD})
    stale = request(client, "post", "/admin/login/?next=/admin/",
                    {"username": "auditor-alpha", "password": PASSWORD,
                     "otp_token": code(device.bin_key, step_offset=-10)})
    assert without.status_code == stale.status_code == 200
    assert b"current code of your authenticator" in without.content
    assert request(client, "get", "/admin/").status_code == 302

    with_code = request(client, "post", "/admin/login/?next=/admin/",
                        {"username": "auditor-alpha", "password": PASSWORD,
                         "otp_token": code(device.bin_key)})
    assert with_code.status_code == 302
    assert request(client, "get", "/admin/").status_code == 200


def test_a_tenant_that_does_not_require_it_lets_password_only_members_in(users, alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    request(client, "post", "/admin/login/?next=/admin/",
            {"username": "editor-alpha", "password": PASSWORD})
    assert request(client, "get", "/admin/").status_code == 200
