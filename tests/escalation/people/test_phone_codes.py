"""A phone number is paged only once its owner types back the code sent to it: six digits,
kept hashed, good for 10 minutes and 5 tries, a new one at most once a minute."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerting.audit.models import AuditEntry
from escalation.models import ContactMethod
from escalation.people.codes import code_hash
from escalation.people.services import (
    VerificationSendError,
    contact_method_code_send,
    contact_method_code_verify,
    contact_method_create,
    contact_method_update,
)
from receivers.models import PhoneSpend, Receiver
from tests.factories import PersonFactory
from tests.receivers.phone.phone_channel import loopback_phone  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_phone")]


@pytest.fixture
def phone(alpha, httpserver):
    """alpha's phone carrier, posting every SMS and call to the local server."""
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    return Receiver.objects.create(name="phone", kind="loopphone", carries_pages=True,
                                   config={"url": httpserver.url_for("/phone")})


@pytest.fixture
def alice(alpha):
    return PersonFactory(user__username="alice", display_name="Alice", language="de")


def sent(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def code_of(httpserver) -> str:
    return "".join(c for c in sent(httpserver)[-1]["text"] if c.isdigit())[:6]


def test_a_number_is_verified_by_the_code_sent_to_it(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+49 151 23456789")
    assert (method.address, method.verified) == ("+4915123456789", False)

    contact_method_code_send(contact_method=method)

    message = sent(httpserver)[0]
    assert (message["to"], message["mode"]) == ("+4915123456789", "sms")
    assert message["text"].startswith("Ihr Herald-Code für Alpha lautet ")  # her language
    code = code_of(httpserver)
    stored = ContactMethod.objects.get(pk=method.pk)
    assert code not in stored.verification_code_hash  # only its keyed hash is kept
    assert stored.verification_code_hash == code_hash(
        code=code, contact_method_id=method.pk, address="+4915123456789")

    verified = contact_method_code_verify(contact_method=method, code=f" {code[:3]} {code[3:]} ")

    assert not verified.already and method.verified
    assert ContactMethod.objects.get(pk=method.pk).verification_code_hash == ""
    assert AuditEntry.objects.filter(action="contact_method_verify",
                                     object_id=str(method.pk)).exists()


def test_a_voice_number_hears_its_code_digit_by_digit(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="voice", address="+4915123456789")

    contact_method_code_send(contact_method=method)

    message = sent(httpserver)[0]
    assert message["mode"] == "voice"
    digits = code_of(httpserver)
    assert f"lautet {', '.join(digits)}. Noch einmal: {', '.join(digits)}." in message["text"]


def test_a_wrong_code_counts_and_the_fifth_uses_the_code_up(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)
    right = code_of(httpserver)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    messages = []
    for _ in range(5):
        with pytest.raises(ValidationError) as excinfo:
            contact_method_code_verify(contact_method=method, code=wrong)
        messages.append(excinfo.value.message_dict["code"][0])

    assert messages[0] == "That is not the code. 4 more tries."
    assert "last of 5 tries" in messages[-1]
    with pytest.raises(ValidationError) as excinfo:
        contact_method_code_verify(contact_method=method, code=right)  # too late, even right
    assert excinfo.value.message_dict["code"] == ["5 wrong codes: send a new code."]
    assert not ContactMethod.objects.get(pk=method.pk).verified


def test_what_is_not_six_digits_is_a_wrong_try(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)

    for typed in ("", "12345", "1234567", "abcdef", "9" * 10_000):
        with pytest.raises(ValidationError):
            contact_method_code_verify(contact_method=method, code=typed)

    assert ContactMethod.objects.get(pk=method.pk).verification_attempts == 5


def test_an_expired_code_verifies_nothing(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)
    code = code_of(httpserver)

    later = timezone.now() + timedelta(minutes=10, seconds=1)
    with time_machine.travel(later), pytest.raises(ValidationError) as excinfo:
        contact_method_code_verify(contact_method=method, code=code)

    assert excinfo.value.message_dict["code"] == ["This code has expired: send a new code."]


def test_one_code_a_minute_and_a_new_code_replaces_the_old(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)
    first = code_of(httpserver)

    with pytest.raises(ValidationError) as excinfo:
        contact_method_code_send(contact_method=method)
    assert "less than a minute ago" in excinfo.value.message_dict["verification_sent_at"][0]
    assert len(sent(httpserver)) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        contact_method_code_send(contact_method=method)
        second = code_of(httpserver)
        if first != second:
            with pytest.raises(ValidationError):
                contact_method_code_verify(contact_method=method, code=first)
        contact_method_code_verify(contact_method=method, code=second)

    assert ContactMethod.objects.get(pk=method.pk).verified


def test_a_changed_number_needs_a_new_code(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)
    code = code_of(httpserver)

    contact_method_update(contact_method=method, address="+4915199999999", label="")

    with pytest.raises(ValidationError) as excinfo:
        contact_method_code_verify(contact_method=method, code=code)
    assert "send one first" in excinfo.value.message_dict["code"][0]


def test_without_a_carrier_for_the_number_nothing_is_sent_and_it_says_so(alpha, alice):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")

    with pytest.raises(VerificationSendError, match="No enabled receiver carries sms pages"):
        contact_method_code_send(contact_method=method)

    assert ContactMethod.objects.get(pk=method.pk).verification_sent_at is None


def test_a_failed_send_keeps_nothing_and_may_be_retried_at_once(alpha, alice, httpserver):
    httpserver.expect_request("/phone", method="POST").respond_with_data("no", status=400)
    Receiver.objects.create(name="phone", kind="loopphone", carries_pages=True,
                            config={"url": httpserver.url_for("/phone")})
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")

    with pytest.raises(VerificationSendError, match="through phone: HTTP 400"):
        contact_method_code_send(contact_method=method)

    stored = ContactMethod.objects.get(pk=method.pk)
    assert (stored.verification_sent_at, stored.verification_code_hash) == (None, "")


def test_a_bad_number_is_refused_naming_the_address(alpha, alice):
    with pytest.raises(ValidationError) as excinfo:
        contact_method_create(person=alice, kind="sms", address="0151 23456789")
    assert "country code" in excinfo.value.message_dict["address"][0]


def test_email_is_confirmed_by_its_link_not_a_code(phone, alice):
    method = contact_method_create(person=alice, kind="email", address="alice@example.com")
    with pytest.raises(ValidationError) as excinfo:
        contact_method_code_send(contact_method=method)
    assert "kind" in excinfo.value.message_dict


def test_ten_codes_a_day_at_most(phone, alice, httpserver):
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    start = timezone.now()
    for minute in range(10):
        with time_machine.travel(start + timedelta(minutes=2 * minute)):
            contact_method_code_send(contact_method=method)

    with time_machine.travel(start + timedelta(minutes=30)), pytest.raises(
        ValidationError
    ) as excinfo:
        contact_method_code_send(contact_method=method)

    assert "10 codes were sent to this number in the last day" in (
        excinfo.value.message_dict["verification_sent_at"][0])
    assert len(sent(httpserver)) == 10


def test_a_code_costs_as_an_sms_and_stops_at_the_ceiling(alpha, alice, httpserver):
    httpserver.expect_request("/phone", method="POST").respond_with_json({"ok": True})
    Receiver.objects.create(name="phone", kind="loopphone", carries_pages=True,
                            config={"url": httpserver.url_for("/phone"),
                                    "price_per_sms": "0.05"})
    alpha.phone_monthly_spend_ceiling = Decimal("0.05")
    alpha.save(update_fields=["phone_monthly_spend_ceiling"])
    method = contact_method_create(person=alice, kind="sms", address="+4915123456789")
    contact_method_code_send(contact_method=method)
    assert PhoneSpend.objects.get().amount == Decimal("0.05")

    with time_machine.travel(timezone.now() + timedelta(minutes=2)), pytest.raises(
        VerificationSendError, match="spend ceiling is reached"
    ):
        contact_method_code_send(contact_method=method)

    assert len(sent(httpserver)) == 1
    assert ContactMethod.objects.get(pk=method.pk).verification_attempts == 0
