"""Alertmanager's sns_configs imported as SNS receivers, and what cannot be, reported."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from alerting.config.alertmanager import alertmanager_import
from alerting.config.export import document_data
from alerting.config.schema import ConfigDocument
from receivers.delivery import notification_deliver
from receivers.models import AttemptOutcome, Receiver
from tests.factories import NotificationFactory
from tests.receivers.sns_moto import REGION, signatures_checked

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def imported(sns_config: str):
    text = f"""
route:
  receiver: oncall
receivers:
  - name: oncall
    sns_configs:
{sns_config}
"""
    result = alertmanager_import(text=text, herald_url="https://herald.example.com")
    return document_data(result.document)["receivers"], "\n".join(result.notes)


def test_a_phone_number_with_static_keys_imports_with_its_sms_attributes():
    receivers, notes = imported(f"""
      - phone_number: "+491701234567"
        sigv4:
          region: eu-central-1
          access_key: AKIAIOSFODNN7EXAMPLE
          secret_key: {SECRET}
        attributes:
          AWS.SNS.SMS.SenderID: Herald
          AWS.SNS.SMS.SMSType: Transactional
          team: payments
        subject: '{{{{ template "sns.default.subject" . }}}}'
""")
    assert receivers == [{
        "name": "oncall", "kind": "sns",
        "config": {"region": "eu-central-1", "phone_number": "+491701234567",
                   "sender_id": "Herald", "sms_type": "Transactional"},
        "secrets": {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": SECRET},
    }]
    assert "attributes.team is not imported" in notes
    assert "subject is not imported (Alertmanager's templates are Go templates" in notes


def test_the_region_comes_from_the_api_url_and_a_vpc_endpoint_is_kept():
    receivers, _ = imported(f"""
      - phone_number: "+14155552671"
        api_url: https://sns.us-east-1.amazonaws.com
        sigv4: {{access_key: AKIAIOSFODNN7EXAMPLE, secret_key: "{SECRET}"}}
      - phone_number: "+14155552671"
        api_url: https://vpce-0a1b2c.sns.us-east-1.vpce.amazonaws.com
        sigv4: {{region: us-east-1, access_key: AKIAIOSFODNN7EXAMPLE, secret_key: "{SECRET}"}}
""")
    assert receivers[0]["config"] == {"region": "us-east-1", "phone_number": "+14155552671"}
    assert receivers[1]["config"]["endpoint_url"] == (
        "https://vpce-0a1b2c.sns.us-east-1.vpce.amazonaws.com"
    )


def test_topics_and_platform_endpoints_are_not_supported_and_say_so():
    receivers, notes = imported("""
      - topic_arn: arn:aws:sns:eu-west-1:123456789012:oncall
        sigv4: {region: eu-west-1}
      - target_arn: arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/1
        sigv4: {region: eu-west-1}
""")
    assert receivers == []
    assert "not imported: topic_arn is not supported: Herald pages a phone number" in notes
    assert "not imported: target_arn is not supported: Herald pages a phone number" in notes


def test_a_profile_or_a_role_cannot_be_honoured_and_the_entry_says_why():
    receivers, notes = imported("""
      - phone_number: "+14155552671"
        sigv4: {region: eu-west-1, profile: alerting}
      - phone_number: "+14155552671"
        sigv4: {region: eu-west-1, role_arn: "arn:aws:iam::123456789012:role/sns"}
""")
    assert receivers == []
    assert "sigv4.profile names a profile on the Alertmanager host" in notes
    assert "sigv4.role_arn: Herald does not assume roles" in notes


def test_without_keys_it_imports_and_says_the_server_credentials_need_the_operator():
    receivers, notes = imported("""
      - phone_number: "+14155552671"
        sigv4: {region: eu-west-1}
""")
    assert receivers == [{"name": "oncall", "kind": "sns",
                          "config": {"region": "eu-west-1", "phone_number": "+14155552671"}}]
    assert "HERALD_SNS_SERVER_CREDENTIALS_TENANTS" in notes


def test_a_templated_or_invalid_number_and_a_missing_region_are_not_imported():
    receivers, notes = imported("""
      - phone_number: '{{ .CommonLabels.phone }}'
        sigv4: {region: eu-west-1}
      - phone_number: "+1555"
        sigv4: {region: eu-west-1}
      - phone_number: "+14155552671"
""")
    assert receivers == []
    assert "phone_number is a Go template" in notes
    assert "not imported: phone_number: not a valid phone number" in notes
    assert "not imported: no sigv4.region" in notes


def test_the_yaml_configuration_takes_the_sns_kind():
    document = ConfigDocument.model_validate({"receivers": [{
        "name": "sms", "kind": "sns",
        "config": {"region": "eu-west-1", "phone_number": "+14155552671"},
        "secrets": {"access_key_id": "${SNS_KEY_ID}", "secret_access_key": "${SNS_SECRET}"},
    }]})
    assert document.receivers[0].kind == "sns"


def test_the_command_imports_an_sns_receiver_that_then_texts(alpha, moto, tmp_path):
    key_id, secret = moto.iam_user("herald", actions=["sns:Publish",
                                                      "sns:CheckIfPhoneNumberIsOptedOut"])
    path = tmp_path / "alertmanager.yml"
    path.write_text(f"""
route:
  receiver: oncall
receivers:
  - name: oncall
    sns_configs:
      - phone_number: "+14155552671"
        api_url: {moto.url}
        sigv4: {{region: {REGION}, access_key: {key_id}, secret_key: "{secret}"}}
        attributes: {{AWS.SNS.SMS.SenderID: Herald}}
""")
    out = StringIO()
    call_command("import_alertmanager_config", str(path), tenant="alpha", stdout=out)

    receiver = Receiver.objects.get(name="oncall")
    assert receiver.kind == "sns"
    assert receiver.secrets == {"access_key_id": key_id, "secret_access_key": secret}
    with signatures_checked():
        attempt = notification_deliver(
            notification_id=NotificationFactory(receiver=receiver).id
        )
    assert attempt.outcome == AttemptOutcome.DELIVERED
    assert moto.publishes()[0].attributes()["AWS.SNS.SMS.SenderID"] == ("String", "Herald")
    assert secret not in out.getvalue()
