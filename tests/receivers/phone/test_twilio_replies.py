"""Replies that act: a key on a page's call, a code texted back, as the person whose number it is.

Key 4 acknowledges and 6 resolves; "12a", "12r", "12s" acknowledge, resolve
or silence group 12 for an hour. An unknown number, a stale or made-up code,
a key that means nothing, or a bad signature get a short answer and change
nothing.
"""

from __future__ import annotations

import pytest

from alerting.audit.models import AuditEntry
from alerting.models import AlertGroup, Silence
from escalation.models import Page
from tests.escalation.conftest import clock  # noqa: F401 - the frozen clock fixture
from tests.escalation.paging.conftest import fire, policy_with, tick  # noqa: F401
from tests.ingest import keep_schema, public_client
from tests.receivers.phone.twilio_paging import (  # noqa: F401 - fixtures
    alice,
    api,
    callback,
    deliver_pending,
    pages_sent,
    phone,
    phone_person,
)
from tests.receivers.phone.twilio_standin import FROM, PERSON
from tests.receivers.phone.twilio_standin import twiml as twiml_of

STRANGER = "+4915100000001"


@pytest.fixture
def called(phone, fire, clock):  # noqa: F811
    """Carol's page calls her at once (her SMS would follow in 5 minutes)."""
    carol = phone_person("Carol", PERSON, first="voice", then="sms")
    group = fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": carol}])]))
    tick()
    deliver_pending()
    [call] = pages_sent("voice")
    return group, call


@pytest.fixture
def texted(phone, alice, fire, clock):  # noqa: F811
    group = fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()
    deliver_pending()
    return group


def press(call, digits, *, to=PERSON, **form):
    response = callback(f"/twilio/alpha/gather/{call.id}/", {
        "CallSid": call.vendor_ref["sid"], "Digits": digits, "From": FROM, "To": to,
        "CallStatus": "in-progress", **form})
    said = " ".join(say.text for say in twiml_of(response.content.decode()).iter("Say"))
    return response.status_code, said


def text(phone, body, *, sender=PERSON, **kwargs):  # noqa: F811
    response = callback(f"/twilio/alpha/{phone.id}/sms/",
                        {"MessageSid": "SM" + "9" * 32, "From": sender, "To": FROM,
                         "Body": body}, **kwargs)
    if response.status_code != 200:
        return response.status_code, ""
    message = twiml_of(response.content.decode()).find("Message")
    return 200, message.text if message is not None else ""


def test_key_4_on_the_call_acknowledges_as_the_person_and_stops_the_page(called):
    group, call = called
    assert press(call, "4") == (200, "Acknowledged by Carol.")
    group.refresh_from_db()
    assert (group.acknowledged_by, group.status) == ("Carol", "firing")
    assert Page.objects.get().state == "acknowledged"
    entry = AuditEntry.objects.filter(action="acknowledge").get()
    assert entry.after["channel"] == "voice" and entry.after["person"] == "Carol"


def test_key_6_resolves(called):
    group, call = called
    assert press(call, "6") == (200, "Resolved by Carol.")
    group.refresh_from_db()
    assert group.status == "resolved"


def test_another_key_or_another_number_changes_nothing(called):
    group, call = called
    assert press(call, "9")[1].startswith("Press 4 to acknowledge")
    assert press(call, "4", to=STRANGER)[1] == (
        "Herald does not know this number. Nothing was changed.")
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_a_key_press_not_signed_by_twilio_or_not_this_calls_is_refused(called):
    group, call = called
    path = f"/twilio/alpha/gather/{call.id}/"
    form = {"CallSid": call.vendor_ref["sid"], "Digits": "4", "To": PERSON}
    assert callback(path, form, signature="").status_code == 403
    assert callback(path, {**form, "Digits": "6"}, tamper={"Digits": "4"}).status_code == 403
    assert callback(path, {**form, "CallSid": "CA" + "f" * 32}).status_code == 404
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_the_sms_reply_code_acknowledges_the_incident_it_named(texted, phone, api):  # noqa: F811
    group = texted
    body = api.of("Messages")[0]["Body"]
    assert body.endswith(f"Reply {group.id}a to acknowledge, {group.id}r to resolve, "
                         f"{group.id}s to silence 1 h")
    assert text(phone, f" {group.id}A ") == (200, "Acknowledged by Alice.")
    group.refresh_from_db()
    assert group.acknowledged_by == "Alice"
    assert AuditEntry.objects.filter(action="acknowledge").get().after["channel"] == "sms"
    # A second reply says who did it.
    assert text(phone, f"{group.id}a") == (200, "Already acknowledged by Alice.")


def test_the_sms_reply_code_resolves_or_silences(texted, phone):  # noqa: F811
    group = texted
    code, said = text(phone, f"{group.id}s")
    assert code == 200 and said.startswith("Silenced for 1 h by Alice")
    assert Silence.objects.count() == 1
    assert text(phone, f"{group.id}r") == (200, "Resolved by Alice.")
    assert AlertGroup.objects.get(id=group.id).status == "resolved"


@pytest.mark.parametrize(("body", "sender", "answer"), [
    ("{group}a", STRANGER, "Herald does not know this number. Nothing was changed."),
    ("{other}a", PERSON, "not a code of a page you have now"),
    ("hello", PERSON, "not a code of a page you have now"),
    ("{group}x", PERSON, "not a code of a page you have now"),
    ("9" * 40 + "a", PERSON, "not a code of a page you have now"),
    ("😀" * 1500, PERSON, "not a code of a page you have now"),
    ("{group}a", "+49" + "1" * 400, "Herald does not know this number"),
])
def test_an_unknown_number_or_code_gets_a_short_answer_and_changes_nothing(
    texted, phone, body, sender, answer  # noqa: F811
):
    group = texted
    code, said = text(phone, body.format(group=group.id, other=group.id + 1), sender=sender)
    assert code == 200 and answer in said
    group.refresh_from_db()
    assert group.acknowledged_at is None and group.status == "firing"
    assert not AuditEntry.objects.filter(action="acknowledge").exists()


def test_a_code_of_an_earlier_incident_is_stale(texted, phone, alice):  # noqa: F811
    group = texted
    AlertGroup.objects.filter(id=group.id).update(incident=group.incident + 1)
    code, said = text(phone, f"{group.id}a")
    assert code == 200 and "earlier incident" in said
    assert AlertGroup.objects.get(id=group.id).acknowledged_at is None


def test_an_sms_not_signed_by_twilio_is_refused(texted, phone):  # noqa: F811
    group = texted
    assert text(phone, f"{group.id}a", signature="")[0] == 403
    assert text(phone, f"{group.id}a", token="e" * 32)[0] == 403
    assert AlertGroup.objects.get(id=group.id).acknowledged_at is None


def test_the_endpoints_take_posts_only(phone, called):  # noqa: F811
    _, call = called
    assert callback(f"/twilio/alpha/{phone.id}/sms/", {}, signature="").status_code == 403
    with keep_schema():
        client = public_client()
        assert client.get(f"/twilio/alpha/{phone.id}/sms/").status_code == 405
        assert client.get(f"/twilio/alpha/gather/{call.id}/").status_code == 405
        assert client.get(f"/twilio/alpha/status/{call.id}/").status_code == 405
