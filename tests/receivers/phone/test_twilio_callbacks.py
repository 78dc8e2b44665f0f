"""Twilio's status callbacks, signed as Twilio signs them: what each status does to a page.

An undelivered SMS or an unanswered call fails its attempt and brings the
person's next rule forward; a bad or missing signature changes nothing
(403); a callback about a message that is not this URL's in this tenant is
404.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from escalation.models import Page
from receivers.models import DeliveryAttempt, Notification
from tests.escalation.conftest import clock  # noqa: F401 - the frozen clock fixture
from tests.escalation.paging.conftest import fire, policy_with, tick  # noqa: F401
from tests.factories import NotificationFactory, ReceiverFactory
from tests.ingest import keep_schema
from tests.receivers.phone.twilio_paging import (  # noqa: F401 - fixtures
    alice,
    api,
    callback,
    deliver_pending,
    pages_sent,
    phone,
    phone_person,
)
from tests.receivers.phone.twilio_standin import FROM, PERSON, TOKEN


@pytest.fixture
def texted(phone, alice, fire, clock):  # noqa: F811
    """Alice was paged: her SMS went out; the call is due in 5 minutes."""
    group = fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    deliver_pending()
    [sms] = pages_sent("sms")
    assert sms.state == "delivered" and sms.vendor_ref["sid"].startswith("SM")
    return group, sms


def status(notification, message_status, **form):
    return {"MessageSid": notification.vendor_ref["sid"], "MessageStatus": message_status,
            "From": FROM, "To": PERSON, "AccountSid": "AC" + "0" * 32, **form}


def last_attempt(notification) -> DeliveryAttempt:
    return notification.delivery_attempts.order_by("-number").first()


def test_an_undelivered_sms_fails_its_attempt_and_the_call_follows_at_once(texted, api, clock):  # noqa: F811
    _, sms = texted
    response = callback(f"/twilio/alpha/status/{sms.id}/",
                        status(sms, "undelivered", ErrorCode="30003"))
    assert response.status_code == 200

    sms.refresh_from_db()
    attempt = last_attempt(sms)
    assert (attempt.outcome, attempt.provider_status) == ("failed", "undelivered")
    assert (sms.state, sms.last_error) == ("failed", "the provider reports the message undelivered")
    page = Page.objects.get()
    assert page.next_rule_at == timezone.now()  # not 5 minutes from the start

    assert tick() == 1
    deliver_pending()
    [call] = pages_sent("voice")
    assert call.state == "delivered" and api.of("Calls")[0]["To"] == PERSON


def test_a_delivered_sms_confirms_its_attempt_and_the_rules_keep_their_times(texted):
    _, sms = texted
    due = Page.objects.get().next_rule_at
    for reported in ("sent", "delivered", "read"):
        assert callback(f"/twilio/alpha/status/{sms.id}/", status(sms, reported)).status_code == 200
    attempt = last_attempt(sms)
    assert (attempt.outcome, attempt.provider_status) == ("delivered", "delivered")
    assert Page.objects.get().next_rule_at == due == Page.objects.get().started_at + timedelta(
        minutes=5)
    assert tick() == 0


def test_a_second_report_changes_nothing(texted):
    _, sms = texted
    callback(f"/twilio/alpha/status/{sms.id}/", status(sms, "delivered"))
    callback(f"/twilio/alpha/status/{sms.id}/", status(sms, "undelivered"))
    sms.refresh_from_db()
    assert sms.state == "delivered" and last_attempt(sms).provider_status == "delivered"


@pytest.mark.parametrize("how", ["tampered", "missing", "another token", "other URL"])
def test_a_callback_not_signed_by_twilio_for_this_url_is_refused_and_changes_nothing(
    texted, how
):
    _, sms = texted
    path = f"/twilio/alpha/status/{sms.id}/"
    form = status(sms, "undelivered")
    if how == "tampered":
        response = callback(path, status(sms, "delivered"), tamper={"MessageStatus": "undelivered"})
    elif how == "missing":
        response = callback(path, form, signature="")
    elif how == "another token":
        response = callback(path, form, token="e" * 32)
    else:
        from tests.receivers.phone.twilio_standin import sign

        response = callback(path, form, signature=sign("https://evil.example" + path, form))
    assert response.status_code == 403
    sms.refresh_from_db()
    assert sms.state == "delivered" and last_attempt(sms).provider_status == ""
    assert Page.objects.get().next_rule_at > timezone.now()


def test_a_callback_about_another_tenants_message_is_not_found(texted, beta, httpserver):
    _, sms = texted
    with tenant_context(beta):
        theirs = NotificationFactory(
            receiver=ReceiverFactory(name="their-phone", kind="twilio",
                                     secrets={"auth_token": TOKEN}),
            state="delivered", vendor_ref={"sid": "SM" + "b" * 32},
        )
    # Their message's sid, on this tenant's URL of its own message, signed with the token.
    assert callback(f"/twilio/alpha/status/{sms.id}/",
                    status(theirs, "undelivered")).status_code == 404
    # Their notification's id in this tenant's URL: no such Twilio message here.
    missing = Notification.objects.order_by("-id").first().id + 1000
    assert callback(f"/twilio/alpha/status/{missing}/",
                    status(theirs, "undelivered")).status_code == 404
    assert callback(f"/twilio/nobody/status/{sms.id}/", status(sms, "undelivered")
                    ).status_code == 404
    sms.refresh_from_db()
    assert sms.state == "delivered"
    with tenant_context(beta):
        assert Notification.objects.get(id=theirs.id).state == "delivered"


@pytest.mark.parametrize("reported", ["busy", "no-answer", "failed", "canceled"])
def test_an_unanswered_call_fails_its_attempt(phone, fire, clock, reported):  # noqa: F811
    bob = phone_person("Bob", "+4915198765432", first="voice", then="sms")
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": bob}])]))
    tick()
    deliver_pending()
    [call] = pages_sent("voice")
    response = callback(f"/twilio/alpha/status/{call.id}/", {
        "CallSid": call.vendor_ref["sid"], "CallStatus": reported, "From": FROM,
        "To": "+4915198765432", "Direction": "outbound-api"})
    assert response.status_code == 200
    call.refresh_from_db()
    assert (call.state, last_attempt(call).provider_status) == ("failed", reported)
    assert call.last_error == f"the provider reports the call {reported}"
    assert tick() == 1  # the SMS, at once
    deliver_pending()
    assert len(pages_sent("sms")) == 1


def test_an_oversized_callback_is_refused(texted):
    _, sms = texted
    response = callback(f"/twilio/alpha/status/{sms.id}/", status(sms, "undelivered",
                                                                  Junk="x" * 40_000))
    assert response.status_code == 413


def test_the_admin_shows_each_attempt_with_its_provider_status(texted):
    _, sms = texted
    callback(f"/twilio/alpha/status/{sms.id}/", status(sms, "undelivered"))
    admin = User.objects.create_superuser(username="operator", email="ops@example.com")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(admin)
    with keep_schema():
        page = client.get(f"/admin/receivers/notification/{sms.id}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Provider status" in text and "undelivered" in text
    assert "the provider reports the message undelivered" in text


def test_a_late_report_of_an_earlier_rule_leaves_the_later_rules_on_time(
    phone, fire, clock  # noqa: F811
):
    dana = phone_person("Dana", "+4915111112222")
    third = dana.contact_methods.get(kind="sms")
    dana.notification_rules.create(contact_method=third, delay_minutes=15)
    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": dana}])]))
    tick()
    deliver_pending()
    clock.shift(timedelta(minutes=5))
    assert tick() == 1  # the call
    deliver_pending()
    [first_sms] = pages_sent("sms")
    page = Page.objects.get()
    due = page.next_rule_at
    assert due == page.started_at + timedelta(minutes=15)

    callback(f"/twilio/alpha/status/{first_sms.id}/", status(first_sms, "undelivered"))
    first_sms.refresh_from_db()
    assert first_sms.state == "failed"  # recorded
    assert Page.objects.get().next_rule_at == due  # but the third rule keeps its time
