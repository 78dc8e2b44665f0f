"""Twilio's transport against a stand-in REST API on loopback: SMS, calls, its error answers."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.urls import resolve
from werkzeug import Response

from receivers.messages import MessageAction
from receivers.phone.segments import sms_segments
from receivers.transports import TransportError, transport_class
from receivers.transports.twilio import (
    TwilioSettings,
    gather_url,
    inbound_sms_url,
    status_callback_url,
)
from receivers.transports.twilio_voice import TWIML_LIMIT
from tests.receivers.helpers import alert, alert_message, transport
from tests.receivers.phone.twilio_standin import (
    FROM,
    PERSON,
    SID,
    TOKEN,
    TwilioApi,
    twilio_config,
)
from tests.receivers.phone.twilio_standin import twiml as twiml_of

ACK = MessageAction("acknowledge", "Acknowledge", "https://herald.example/act/x/", "tok")


def twilio(httpserver, **config):
    return transport("twilio", config=twilio_config(httpserver, **config),
                     secrets={"auth_token": TOKEN})


def page(**fields):
    """A page to a person (it names their contact method), firing, with its actions."""
    return alert_message(notification_id=41, alert_group_id=12, incident=1,
                         contact_method_id=7, actions=(ACK,), **fields)


def base() -> str:
    return settings.HERALD_BASE_URL.rstrip("/")


def test_a_page_by_sms_is_a_message_from_the_number_to_the_person_with_its_reply_codes(
    httpserver,
):
    api = TwilioApi(httpserver)
    config = transport_class("twilio").page_config(
        twilio_config(httpserver), contact_kind="sms", address="+49 151 1234 5678")
    sent = transport("twilio", config=config, secrets={"auth_token": TOKEN}).send(page())

    [form] = api.of("Messages")
    assert (form["From"], form["To"]) == (FROM, PERSON)
    assert form["Body"].startswith("[FIRING:2] HighLatency")
    assert form["Body"].endswith("Reply 12a to acknowledge, 12r to resolve, 12s to silence 1 h")
    assert sms_segments(form["Body"]) <= 2
    assert form["StatusCallback"] == f"{base()}/twilio/alpha/status/41/"
    assert sent.vendor_ref == {"sid": api.sids("Messages")[0]}
    assert sent.http_status == 201
    assert api.refused == []


def test_a_page_by_voice_calls_with_twiml_that_speaks_and_asks_for_one_key(httpserver):
    api = TwilioApi(httpserver)
    config = transport_class("twilio").page_config(
        twilio_config(httpserver, language="de"), contact_kind="voice", address=PERSON)
    sent = transport("twilio", config=config, secrets={"auth_token": TOKEN}).send(page())

    assert api.of("Messages") == []
    [form] = api.of("Calls")
    assert (form["From"], form["To"]) == (FROM, PERSON)
    assert form["StatusCallback"] == f"{base()}/twilio/alpha/status/41/"
    assert len(form["Twiml"]) <= TWIML_LIMIT
    twiml = twiml_of(form["Twiml"])
    gather = twiml.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{base()}/twilio/alpha/gather/41/"
    said = [say.text for say in gather.findall("Say")]
    assert {say.get("language") for say in twiml.iter("Say")} == {"de-DE"}
    assert said[0].startswith("Hier ist Herald für Alpha. Alarm: High Latency.")
    assert said[0].endswith("Drücken Sie 4 zum Bestätigen. Drücken Sie 6 zum Lösen.")
    assert said[1] == "Drücken Sie 4 zum Bestätigen. Drücken Sie 6 zum Lösen."  # once more
    assert sent.vendor_ref == {"sid": api.sids("Calls")[0]}


def test_a_channel_message_texts_the_receivers_number_without_reply_codes(httpserver):
    api = TwilioApi(httpserver)
    twilio(httpserver, to=PERSON).send(alert_message("resolved"))
    [form] = api.of("Messages")
    assert form["Body"].startswith("[RESOLVED] HighLatency")
    assert "Reply" not in form["Body"]


def test_a_channel_call_speaks_without_asking_for_keys(httpserver):
    api = TwilioApi(httpserver)
    twilio(httpserver, to=PERSON, call=True).send(alert_message())
    twiml = twiml_of(api.of("Calls")[0]["Twiml"])
    assert twiml.find("Gather") is None
    said = twiml.find("Say").text
    assert said == ("This is Herald for Alpha. Alert: High Latency. Severity: critical. "
                    "2 alerts are firing.")  # no keys: nothing would hear them


def test_a_long_alert_is_cut_to_two_segments_and_keeps_its_reply_line(httpserver):
    api = TwilioApi(httpserver)
    summary = "disk full " * 200
    message = page(common_annotations={"summary": summary},
                   alerts=[alert("firing", 1, annotations={"summary": summary})])
    twilio(httpserver, to=PERSON).send(message)
    body = api.of("Messages")[0]["Body"]
    assert sms_segments(body) == 2 and body.endswith("...\nReply 12a to acknowledge, 12r to "
                                                      "resolve, 12s to silence 1 h")
    assert body.startswith("[FIRING:1] HighLatency: disk full disk full")


def test_markup_in_alerts_cannot_break_the_calls_twiml(httpserver):
    api = TwilioApi(httpserver)
    evil = '</Say><Dial>+19005550100</Dial><Say>'
    twilio(httpserver, to=PERSON, call=True).send(page(common_annotations={"summary": evil}))
    twiml = twiml_of(api.of("Calls")[0]["Twiml"])
    assert twiml.find(".//Dial") is None
    assert [element.tag for element in twiml.iter()] == ["Response", "Gather", "Say", "Say", "Say"]


def test_verification_codes_are_texted_or_spoken(httpserver):
    api = TwilioApi(httpserver)
    twilio(httpserver).verification_send(address=PERSON, text="Your Herald code is 123456")
    twilio(httpserver, call=True).verification_send(address=PERSON, text="Code 1 2 3 4 5 6")
    assert api.of("Messages")[0]["Body"] == "Your Herald code is 123456"
    spoken = twiml_of(api.of("Calls")[0]["Twiml"]).findall("Say")
    assert [say.text for say in spoken] == ["Code 1 2 3 4 5 6"]


def test_the_request_is_a_form_with_basic_auth_of_the_account(httpserver):
    seen = []

    def created(request):
        seen.append(request)
        return Response('{"sid": "SM1"}', status=201, content_type="application/json")

    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json").respond_with_handler(
        created)
    twilio(httpserver, to=PERSON).send(alert_message())
    request = seen[0]
    user, _, password = base64.b64decode(
        request.headers["Authorization"].removeprefix("Basic ")).decode().partition(":")
    assert (user, password) == (SID, TOKEN)
    assert set(parse_qs(request.get_data(as_text=True))) == {"From", "To", "Body",
                                                            "StatusCallback"}


@pytest.mark.parametrize(("status", "code", "permanent", "says"), [
    (400, 21211, True, "not a valid phone number"),
    (400, 21608, True, "not verified"),
    (400, 21610, True, "unsubscribed"),
    (401, 20003, True, "Twilio 401 (error 20003)"),
    (429, 20429, False, "Twilio 429 (error 20429)"),
    (503, 0, False, "Twilio 503"),
])
def test_twilios_errors_are_permanent_or_retried(httpserver, status, code, permanent, says):
    api = TwilioApi(httpserver)
    api.fail(status, code, "no", headers={"Retry-After": "7"} if status == 429 else None)
    with pytest.raises(TransportError) as failure:
        twilio(httpserver, to=PERSON).send(alert_message())
    assert failure.value.permanent is permanent
    assert failure.value.http_status == status
    assert says in failure.value.message
    if status == 429:
        assert failure.value.retry_after == 7


def test_the_auth_token_never_reaches_an_error(httpserver):
    api = TwilioApi(httpserver)
    api.fail(400, 21211, f"bad request with {TOKEN}")
    with pytest.raises(TransportError) as failure:
        twilio(httpserver, to=PERSON).send(alert_message())
    assert TOKEN not in failure.value.message


def test_a_receiver_without_a_number_fails_for_good(httpserver):
    with pytest.raises(TransportError, match="no number") as failure:
        twilio(httpserver).send(alert_message())
    assert failure.value.permanent


@pytest.mark.parametrize(("config", "field"), [
    ({"account_sid": "AC123"}, "account_sid"),
    ({"from_number": "0151 1234"}, "from_number"),
    ({"to": "+49 1"}, "to"),
    ({"api_url": "ftp://x"}, "api_url"),
])
def test_bad_settings_name_the_setting(config, field):
    good = {"account_sid": SID, "from_number": FROM}
    with pytest.raises(ValueError) as failure:
        TwilioSettings.parse(config={**good, **config}, secrets={"auth_token": TOKEN})
    assert field in failure.value.errors


def test_a_persons_number_is_cleaned_to_e164_or_refused():
    kind = transport_class("twilio")
    assert kind.contact_address_clean("0049 151 1234 5678") == PERSON
    with pytest.raises(ValueError):
        kind.contact_address_clean("12345")
    with pytest.raises(ValueError):
        kind.page_config({}, contact_kind="email", address=PERSON)


def test_an_sms_in_ucs_2_is_cut_to_its_two_shorter_segments(httpserver):
    api = TwilioApi(httpserver)
    summary = "Плохо: диск заполнен " * 20
    twilio(httpserver, to=PERSON).send(page(common_annotations={"summary": summary}))
    body = api.of("Messages")[0]["Body"]
    assert sms_segments(body) <= 2 and body.endswith("12s to silence 1 h")
    assert "Плохо" in body


def test_the_callback_urls_herald_gives_twilio_are_its_routes():
    for url, view in (
        (status_callback_url(tenant_slug="alpha", notification_id=41), "twilio-status"),
        (gather_url(tenant_slug="alpha", notification_id=41), "twilio-gather"),
        (inbound_sms_url(tenant_slug="alpha", receiver_id=3), "twilio-sms"),
    ):
        assert url.startswith(base() + "/twilio/alpha/")
        assert resolve(url.removeprefix(base()), urlconf="alerting.urls_public").url_name == view
        assert resolve(url.removeprefix(base()), urlconf="alerting.urls_tenant").url_name == view
