"""Phone providers and numbers as code: Twilio for +49, SNS for the rest, credentials as
${ENV} references, people's sms and voice numbers, the tenant's monthly phone ceiling;
a bad number or a prefix claimed twice is an error at its line."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from escalation.models import ContactMethod
from receivers.carriers import page_carrier_for
from receivers.models import Receiver
from tenants.models import Tenant
from tests.config.oncall_helpers import deploy, export, members_of_the_tenant

pytestmark = pytest.mark.django_db

PHONE = """\
tenant:
  time_zone: Europe/Berlin
  phone_monthly_spend_ceiling: 50
receivers:
  - name: twilio-de
    kind: twilio
    carries_pages: true
    config:
      account_sid: AC0123456789abcdef0123456789abcdef
      from_number: "+4930123456789"
      country_prefixes: ["+49"]
      price_per_sms: "0.08"
      price_per_call: "0.15"
    secrets: {auth_token: "${TWILIO_AUTH_TOKEN}"}
  - name: sns-world
    kind: sns
    carries_pages: true
    config: {region: eu-west-1, phone_number: "+12025550123", price_per_sms: "0.05"}
    secrets: {access_key_id: "${AWS_KEY}", secret_access_key: "${AWS_SECRET}"}
people:
  - username: alice
    contact_methods:
      - {kind: sms, address: "+49 151 23456789", label: mobile}
      - {kind: voice, address: "+49 151 23456789", label: call}
    notification_rules:
      - {method: mobile, delay_minutes: 0}
      - {method: call, delay_minutes: 5}
"""


@pytest.fixture
def phone_env(monkeypatch) -> None:
    for name, value in {"TWILIO_AUTH_TOKEN": "t0ken", "AWS_KEY": "AKIAEXAMPLEKEY00",
                        "AWS_SECRET": "s3cret"}.items():
        monkeypatch.setenv(name, value)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "phone.yaml"
    path.write_text(text)
    return path


def validate(path: Path) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("validate_config", str(path), level="basic", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_providers_numbers_and_the_ceiling_deploy_and_round_trip(alpha, phone_env, tmp_path):
    members_of_the_tenant("alice")
    path = write(tmp_path, PHONE)

    deploy(path)

    assert Tenant.objects.get(pk=connection.tenant.pk).phone_monthly_spend_ceiling == (
        Decimal("50.00"))
    assert Receiver.objects.get(name="twilio-de").secrets == {"auth_token": "t0ken"}
    numbers = ContactMethod.objects.order_by("kind")
    assert [(m.kind, m.address, m.verified) for m in numbers] == [
        ("sms", "+4915123456789", False), ("voice", "+4915123456789", False)]
    assert page_carrier_for(contact_kind="sms", address="+4915123456789").name == "twilio-de"
    assert page_carrier_for(contact_kind="sms", address="+33612345678").name == "sns-world"
    assert page_carrier_for(contact_kind="voice", address="+33612345678") is None  # no calls

    exported = export()
    assert "phone_monthly_spend_ceiling: '50.00'" in exported
    assert "auth_token: ${" in exported and "t0ken" not in exported  # a reference, never it
    assert deploy(path).strip() == "no changes"


def test_a_bad_number_and_a_prefix_claimed_twice_are_errors_at_their_lines(tmp_path):
    text = PHONE.replace('"+49 151 23456789", label: mobile', '"0151 23456789", label: mobile')
    text = text.replace("config: {region: eu-west-1,",
                        'config: {country_prefixes: ["+49"], region: eu-west-1,')
    ok, output = validate(write(tmp_path, text))

    assert not ok
    for line in [
        "phone.yaml:23:30: error: people[0].contact_methods[0].address: not a valid sms "
        "address: write the number with its country code, e.g. +49 151 12345678",
        "phone.yaml:18:14: error: receivers[1].config.country_prefixes: +49 is claimed twice "
        "for sms pages ('twilio-de' claims it already)",
    ]:
        assert line in output, f"{line!r} missing:\n{output}"


def test_two_default_phone_carriers_are_an_error(tmp_path):
    ok, output = validate(write(tmp_path, PHONE.replace('      country_prefixes: ["+49"]\n', "")))

    assert not ok
    assert ("receivers[1].carries_pages: 'twilio-de' already carries the sms pages of every "
            "number no prefix claims: give one of them country_prefixes") in output


def test_a_negative_ceiling_is_refused(tmp_path):
    ok, output = validate(write(tmp_path, PHONE.replace("ceiling: 50", "ceiling: -1")))

    assert not ok
    assert "tenant.phone_monthly_spend_ceiling: Input should be greater than or equal to 0" in (
        output)
