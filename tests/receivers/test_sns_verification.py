"""A person's SMS number verified by a code texted through an SNS carrier (moto, SigV4 checked)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from escalation.people.codes import contact_method_code_send, contact_method_code_verify
from escalation.people.confirmation import VerificationSendError
from tests.factories import ContactMethodFactory, PersonFactory, ReceiverFactory
from tests.receivers.sns_moto import REGION, signatures_checked

NUMBER = "+491701234567"


def carrier(moto, keys):
    return ReceiverFactory(
        kind="sns", name="sns-sms", carries_pages=True,
        config={"region": REGION, "endpoint_url": moto.url, "phone_number": "+14155552671"},
        secrets={"access_key_id": keys[0], "secret_access_key": keys[1]},
    )


def test_a_number_gets_its_code_by_sms_and_the_code_verifies_it(alpha, moto):
    keys = moto.iam_user("herald", actions=["sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"])
    carrier(moto, keys)
    method = ContactMethodFactory(person=PersonFactory(), kind="sms", address=NUMBER,
                                  verified_at=None)
    with signatures_checked():
        contact_method_code_send(contact_method=method)

    [(number, text)] = moto.sms_sent()
    assert number == NUMBER
    code = re.search(r"\b(\d{6})\b", text)[1]
    with pytest.raises(ValidationError):
        contact_method_code_verify(contact_method=method, code=str((int(code) + 1) % 10**6)
                                   .zfill(6))
    contact_method_code_verify(contact_method=method, code=code)
    method.refresh_from_db()
    assert method.verified_at is not None


def test_a_refused_key_says_why_and_leaves_the_number_unverified(alpha, moto):
    key_id, _ = moto.iam_user("herald", actions=["sns:Publish"])
    carrier(moto, (key_id, "wrong" * 8))
    method = ContactMethodFactory(person=PersonFactory(), kind="sms", address=NUMBER,
                                  verified_at=None)
    with signatures_checked(), pytest.raises(VerificationSendError) as failed:
        contact_method_code_send(contact_method=method)

    assert "through sns-sms: SNS SignatureDoesNotMatch" in str(failed.value)
    assert "wrong" * 8 not in str(failed.value)
    assert moto.sms_sent() == []
    method.refresh_from_db()
    assert method.verified_at is None
