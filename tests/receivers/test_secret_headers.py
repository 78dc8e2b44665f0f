"""Webhook headers that carry credentials are secrets: `header:<Name>` in the encrypted secrets."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from receivers.delivery import notification_deliver
from receivers.models import Receiver
from receivers.transports import SettingsError, settings_class
from tests.factories import NotificationFactory, ReceiverFactory

API_KEY = "k3y-9f8e7d6c5b4a39281706"


def test_a_secret_header_is_sent_with_the_plain_ones(alpha, httpserver):
    httpserver.expect_request(
        "/hook", headers={"X-Api-Key": API_KEY, "X-Team": "sre"}
    ).respond_with_data("ok")
    receiver = ReceiverFactory(
        config={"headers": {"X-Team": "sre"}},
        secrets={"url": httpserver.url_for("/hook"), "header:X-Api-Key": API_KEY},
    )
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    notification.refresh_from_db()
    assert notification.state == "delivered", notification.last_error


@pytest.mark.parametrize(
    ("config", "secrets", "problem"),
    [
        ({}, {"secret_headers": {"X-Api-Key": API_KEY}}, "header:<name>"),
        ({}, {"header:Bad Name": API_KEY}, "'Bad Name' is not a valid header name"),
        ({}, {"header:X-Api-Key": "a\r\nInjected: 1"}, "contains a line break"),
        ({"headers": {"x-api-key": "plain"}}, {"header:X-Api-Key": API_KEY},
         "both a plain and a secret header"),
        ({"secret_headers": {"X-Api-Key": API_KEY}}, {}, "is a secret"),
    ],
    ids=["nested", "bad-name", "line-break", "twice", "in-plain-config"],
)
def test_secret_headers_are_checked_without_repeating_their_value(config, secrets, problem):
    with pytest.raises(SettingsError) as refused:
        settings_class("webhook").parse(
            config=config, secrets={"url": "https://hooks.example.com/in", **secrets}
        )

    assert problem in str(refused.value)
    assert API_KEY not in str(refused.value) and "Injected" not in str(refused.value)


def test_deploy_receivers_takes_secret_headers_under_secrets(alpha, tmp_path, monkeypatch):
    monkeypatch.setenv("OPS_HOOK_KEY", API_KEY)
    path = tmp_path / "herald.yaml"
    path.write_text(
        "receivers:\n"
        "  - name: ops-hook\n"
        "    kind: webhook\n"
        "    secrets:\n"
        "      url: https://hooks.example.com/in\n"
        '      "header:X-Api-Key": ${OPS_HOOK_KEY}\n'
    )

    call_command("deploy_receivers", str(path), tenant="alpha", stdout=StringIO(),
                 stderr=StringIO())
    exported = StringIO()
    call_command("export_config", tenant="alpha", stdout=exported)

    assert Receiver.objects.get(name="ops-hook").secrets["header:X-Api-Key"] == API_KEY
    assert "header:X-Api-Key" in exported.getvalue()
    assert "${HERALD_OPS_HOOK_HEADER_X_API_KEY}" in exported.getvalue()
    assert API_KEY not in exported.getvalue()
