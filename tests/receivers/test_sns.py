"""AWS SNS: an SMS to a phone number, signed with SigV4 and checked by moto's IAM, on loopback.

moto runs in server mode on 127.0.0.1 (tests/receivers/sns_moto.py) with its
signature and policy checks on: a request moto accepts was signed with the
receiver's key, and the SMS it accepted is read from its SNS backend.
"""

from __future__ import annotations

import pytest

from receivers.delivery import notification_deliver
from receivers.forms import receiver_form_class
from receivers.models import AttemptOutcome, Notification
from receivers.phone.segments import sms_segments
from receivers.transports import TransportError, transport_class
from receivers.transports import sns as sns_module
from receivers.transports.settings import SettingsError
from receivers.transports.sns import SnsSettings, sms_text_fit
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert_message, assert_whole_text
from tests.receivers.sns_moto import REGION, MotoSns, signatures_checked

NUMBER = "+14155552671"
OPTED_OUT = "+491701234599"  # moto: numbers ending in 99 replied STOP
SENDS = ["sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"]


def sns(moto: MotoSns, keys: tuple[str, str], **config):
    return transport_class("sns")(
        config={"region": REGION, "endpoint_url": moto.url, "phone_number": NUMBER, **config},
        secrets={"access_key_id": keys[0], "secret_access_key": keys[1]},
        allow_private=True,
    )


def test_an_alert_is_texted_signed_with_the_receivers_key_and_its_sms_attributes(moto):
    keys = moto.iam_user("herald", actions=SENDS)
    with signatures_checked():
        result = sns(moto, keys, sender_id="Herald", sms_type="Transactional",
                     origination_number="+14155550123").send(alert_message())

    [(number, text)] = moto.sms_sent()
    assert number == NUMBER
    assert text.startswith("[FIRING:2] HighLatency")
    [publish] = moto.publishes()
    assert publish.headers["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={keys[0]}/"
    )
    assert f"/{REGION}/sns/aws4_request" in publish.headers["Authorization"]
    assert publish.attributes() == {
        "AWS.SNS.SMS.SenderID": ("String", "Herald"),
        "AWS.SNS.SMS.SMSType": ("String", "Transactional"),
        "AWS.MM.SMS.OriginationNumber": ("String", "+14155550123"),
    }
    assert result.http_status == 200
    assert result.vendor_ref == {"message_id": moto.sms_ids()[0]}


def test_promotional_type_and_no_sender_id_send_only_the_type(moto):
    keys = moto.iam_user("herald", actions=SENDS)
    with signatures_checked():
        sns(moto, keys, sms_type="Promotional").send(alert_message())
    assert moto.publishes()[0].attributes() == {"AWS.SNS.SMS.SMSType": ("String", "Promotional")}


def test_a_wrong_secret_fails_for_good_and_the_error_never_shows_the_keys(moto):
    key_id, _ = moto.iam_user("herald", actions=SENDS)
    with signatures_checked(), pytest.raises(TransportError) as failure:
        sns(moto, (key_id, "x" * 40)).send(alert_message())

    assert failure.value.permanent
    assert failure.value.http_status == 403
    assert "SignatureDoesNotMatch" in failure.value.message
    assert key_id not in failure.value.message and "x" * 40 not in failure.value.message
    assert moto.sms_sent() == []


def test_a_user_not_allowed_to_publish_fails_for_good_saying_which_action(moto):
    keys = moto.iam_user("reader", actions=["sns:CheckIfPhoneNumberIsOptedOut"])
    with signatures_checked(), pytest.raises(TransportError) as failure:
        sns(moto, keys).send(alert_message())

    assert failure.value.permanent
    assert "AccessDenied" in failure.value.message
    assert "sns:Publish" in failure.value.message
    assert moto.sms_sent() == []


def test_an_opted_out_number_fails_for_good_and_nothing_is_published(moto):
    keys = moto.iam_user("herald", actions=SENDS)
    with signatures_checked(), pytest.raises(TransportError) as failure:
        sns(moto, keys, phone_number=OPTED_OUT).send(alert_message())

    assert failure.value.permanent
    assert "opted out" in failure.value.message
    assert moto.publishes() == []
    assert moto.sms_sent() == []


def test_without_the_opt_out_check_only_publish_is_asked_and_needed(moto):
    keys = moto.iam_user("herald", actions=["sns:Publish"])
    with signatures_checked():
        sns(moto, keys, check_opt_out=False, phone_number=OPTED_OUT).send(alert_message())
    assert [number for number, _ in moto.sms_sent()] == [OPTED_OUT]
    assert [seen.action for seen in moto.recorder.seen][-1:] == ["Publish"]


def test_sns_carries_sms_only_and_cleans_a_persons_number():
    kind = transport_class("sns")
    base = {"region": REGION, "phone_number": NUMBER}
    assert kind.contact_kinds == ("sms",)
    config = kind.page_config(base, contact_kind="sms", address=" +49 170 1234567 ")
    assert config == {**base, "phone_number": "+491701234567"}
    with pytest.raises(ValueError, match="does not carry voice pages"):
        kind.page_config(base, contact_kind="voice", address="+491701234567")
    with pytest.raises(ValueError, match="country code"):
        kind.page_config(base, contact_kind="sms", address="0170 1234567")


def test_a_verification_code_is_texted_to_the_number_being_verified(moto):
    keys = moto.iam_user("herald", actions=SENDS)
    with signatures_checked():
        sns(moto, keys).verification_send(
            address="+491701234567", text="Your Herald code is 123456"
        )
    assert moto.sms_sent() == [("+491701234567", "Your Herald code is 123456")]


def test_without_keys_the_servers_credentials_are_refused_unless_the_operator_allows(
    moto, settings, monkeypatch, alpha
):
    keys = moto.iam_user("server", actions=SENDS)
    config = {"region": REGION, "endpoint_url": moto.url, "phone_number": NUMBER}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[1])
    monkeypatch.delattr(sns_module._local, "session", raising=False)
    settings.HERALD_SNS_SERVER_CREDENTIALS_TENANTS = []
    with pytest.raises(TransportError) as failure:
        transport_class("sns")(config=config, secrets={}, allow_private=True).send(
            alert_message()
        )
    assert failure.value.permanent
    assert "does not let this tenant use its own AWS credentials" in failure.value.message
    with pytest.raises(SettingsError) as refused:
        SnsSettings.parse(config=config, secrets={}, saving=True)
    assert "is required (with secret_access_key)" in refused.value.errors["access_key_id"]
    assert moto.publishes() == []

    settings.HERALD_SNS_SERVER_CREDENTIALS_TENANTS = ["alpha"]
    with signatures_checked():
        transport_class("sns")(config=config, secrets={}, allow_private=True).send(
            alert_message()
        )
    monkeypatch.delattr(sns_module._local, "session", raising=False)
    assert moto.publishes()[0].headers["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={keys[0]}/"
    )


def test_a_notification_is_delivered_and_records_the_message_id(moto, alpha):
    keys = moto.iam_user("herald", actions=SENDS)
    receiver = ReceiverFactory(
        kind="sns", config={"region": REGION, "endpoint_url": moto.url, "phone_number": NUMBER},
        secrets={"access_key_id": keys[0], "secret_access_key": keys[1]},
    )
    notification = NotificationFactory(receiver=receiver)
    with signatures_checked():
        attempt = notification_deliver(notification_id=notification.id)

    assert attempt.outcome == AttemptOutcome.DELIVERED
    notification = Notification.objects.get()
    assert notification.vendor_ref == {"message_id": moto.sms_ids()[0]}
    assert len(moto.sms_sent()) == 1


@pytest.mark.parametrize(("config", "setting", "problem"), [
    ({"region": "Europe"}, "region", "must be an AWS region name"),
    ({"phone_number": "0170 1234567"}, "phone_number", "with its country code"),
    ({"phone_number": "+1555"}, "phone_number", "not a valid phone number"),
    ({"sender_id": "Herald Alerts"}, "sender_id", "1 to 11 letters"),
    ({"sender_id": "123456"}, "sender_id", "with a letter"),
    ({"sms_type": "Urgent"}, "sms_type", "Transactional"),
    ({"origination_number": "12"}, "origination_number", "with its country code"),
    ({"country_prefixes": ["49"]}, "country_prefixes", "is not a country prefix"),
    ({"endpoint_url": "ftp://sns.example"}, "endpoint_url", "http"),
])
def test_bad_settings_are_refused_naming_the_setting(config, setting, problem):
    with pytest.raises(SettingsError) as refused:
        SnsSettings.parse(config={"region": REGION, "phone_number": NUMBER, **config},
                          secrets={"access_key_id": "AKIA0123456789ABCDEF",
                                   "secret_access_key": "s" * 40})
    assert setting in refused.value.errors
    assert problem in refused.value.errors[setting]


def test_keys_come_in_pairs_and_a_bad_key_id_is_named_not_repeated():
    base = {"region": REGION, "phone_number": NUMBER}
    with pytest.raises(SettingsError) as half:
        SnsSettings.parse(config=base, secrets={"access_key_id": "AKIA0123456789ABCDEF"})
    assert "both the access key id and the secret access key" in str(half.value)
    with pytest.raises(SettingsError) as bad:
        SnsSettings.parse(config=base, secrets={"access_key_id": "not-a-key-id-hunter2",
                                                "secret_access_key": "s" * 40})
    assert "access_key_id" in bad.value.errors
    assert "hunter2" not in str(bad.value)


def test_long_text_fits_two_segments_and_keeps_the_link_at_its_end_whole():
    link = "https://herald.example.com/a/7Kq2xY9"
    fitted = sms_text_fit("Disk almost full " * 40 + f"Ack: {link}")
    assert sms_segments(fitted) == 2
    assert fitted.startswith("Disk almost full")
    assert fitted.endswith(f"... Ack: {link}")

    unicode = sms_text_fit("数据库延迟 🔥 " * 60 + f"Ack: {link}")
    assert sms_segments(unicode) <= 2
    assert unicode.endswith(f"... Ack: {link}")
    assert_whole_text(unicode)

    short = "[FIRING:1] DiskFull"
    assert sms_text_fit(f"{short}\n  Ack: {link}") == f"{short} Ack: {link}"


def test_a_page_to_a_persons_sms_contact_goes_to_their_number_through_the_carrier(moto, alpha):
    keys = moto.iam_user("herald", actions=SENDS)
    carrier = ReceiverFactory(
        kind="sns", carries_pages=True,
        config={"region": REGION, "endpoint_url": moto.url, "phone_number": NUMBER},
        secrets={"access_key_id": keys[0], "secret_access_key": keys[1]},
    )
    notification = NotificationFactory(
        receiver=carrier, recipient_address="+491701234567", contact_kind="sms"
    )
    with signatures_checked():
        attempt = notification_deliver(notification_id=notification.id)

    assert attempt.outcome == AttemptOutcome.DELIVERED
    assert [number for number, _ in moto.sms_sent()] == ["+491701234567"]


def sns_form(**fields) -> dict[str, object]:
    return {"name": "sms", "enabled": "on", "max_attempts": 3, "language": "en",
            "region": REGION, "phone_number": NUMBER, "sms_type": "Transactional",
            "price_per_sms": "0.05", "price_per_call": "0", "country_prefixes": "[]", **fields}


def test_the_admin_form_keeps_the_keys_secret_and_refuses_none_without_the_operator(
    alpha, settings
):
    settings.HERALD_SNS_SERVER_CREDENTIALS_TENANTS = []
    form = receiver_form_class("sns")(data=sns_form(
        access_key_id="AKIAIOSFODNN7EXAMPLE", secret_access_key="k" * 40
    ))
    assert form.is_valid(), form.errors
    assert "access_key_id" not in form.settings_config
    assert form.settings_secrets == {"access_key_id": "AKIAIOSFODNN7EXAMPLE",
                                     "secret_access_key": "k" * 40}

    keyless = receiver_form_class("sns")(data=sns_form())
    assert not keyless.is_valid()
    assert "this server does not let this tenant" in str(keyless.errors)
