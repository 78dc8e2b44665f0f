"""Typed settings per kind: what each requires, and errors that say what is wrong."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from receivers.models import MessageTemplate, Receiver
from receivers.services import receiver_create, receiver_save
from receivers.transports import (
    TRANSPORTS,
    SettingsError,
    channel_choices,
    settings_class,
    templated_channel_choices,
)

REQUIRED = {
    "webhook": {"url"},
    "slack": {"url"},
    "email": {"host", "from_address", "to"},
    "pagerduty": {"routing_key"},
    "msteams": {"url"},
    "discord": {"url"},
    "opsgenie": {"api_key"},
    "telegram": {"bot_token", "chat_id"},
}


def test_every_receiver_kind_has_a_transport():
    # At least the channels above: a channel added later brings its own tests.
    assert set(dict(Receiver._meta.get_field("kind").choices)) == set(TRANSPORTS) >= set(REQUIRED)


def test_the_kind_choices_follow_the_registry_so_a_new_channel_needs_no_migration():
    kind = Receiver._meta.get_field("kind")
    channel = MessageTemplate._meta.get_field("channel")

    # What the migration records is the function, not today's list.
    assert kind.deconstruct()[3]["choices"] is channel_choices
    assert channel.deconstruct()[3]["choices"] is templated_channel_choices
    assert "webhook" in dict(kind.choices) and "webhook" not in dict(channel.choices)


@pytest.mark.parametrize("kind", REQUIRED)
def test_empty_settings_name_every_required_one(kind):
    with pytest.raises(SettingsError) as failure:
        settings_class(kind).parse(config={}, secrets={})
    assert failure.value.errors == {name: "is required" for name in REQUIRED[kind]}


def test_a_secret_in_the_plain_config_is_refused():
    with pytest.raises(SettingsError) as failure:
        settings_class("slack").parse(config={"url": "https://hooks.slack.com/x"}, secrets={})
    assert "store it in the receiver's secrets" in failure.value.errors["url"]


def test_unknown_settings_and_secrets_are_refused():
    with pytest.raises(SettingsError) as failure:
        settings_class("discord").parse(
            config={"colour": "red"}, secrets={"url": "https://d.example/w", "token": "x"}
        )
    assert failure.value.errors == {
        "colour": "is not a setting of this kind of receiver",
        "token": "is not a secret of this kind of receiver",
    }


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"to": ["not-an-address"]}, "to.0"),
        ({"to": []}, "to"),
        ({"security": "ssl"}, "security"),
        ({"port": 70000}, "port"),
        ({"language": "es"}, "language"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_email_settings_are_checked(config, error):
    base = {"host": "smtp.example.com", "from_address": "h@example.com", "to": ["a@example.com"]}
    with pytest.raises(SettingsError) as failure:
        settings_class("email").parse(config={**base, **config}, secrets={})
    assert error in failure.value.errors


@pytest.mark.parametrize(
    ("chat_id", "parsed"),
    [(-100123, -100123), ("-100123", -100123), ("@ops_alerts", "@ops_alerts")],
)
def test_telegram_chat_ids_are_numbers_or_channel_names(chat_id, parsed):
    settings = settings_class("telegram").parse(
        config={"chat_id": chat_id}, secrets={"bot_token": "t"}
    )
    assert settings.chat_id == parsed


def test_a_telegram_chat_id_must_look_like_one():
    with pytest.raises(SettingsError, match="chat_id"):
        settings_class("telegram").parse(config={"chat_id": "ops"}, secrets={"bot_token": "t"})


def test_creating_a_receiver_checks_its_settings(alpha):
    with pytest.raises(ValidationError) as failure:
        receiver_create(name="pd", kind="pagerduty", secrets={})
    assert failure.value.message_dict == {"routing_key": ["is required"]}


def test_saving_keeps_secrets_left_empty_and_clears_only_what_is_asked(alpha):
    receiver = receiver_create(
        name="hook", kind="webhook", secrets={"url": "https://a.example/h", "signing_secret": "s1"}
    )

    receiver_save(receiver=receiver, config={}, secrets={"url": "", "signing_secret": None})
    assert receiver.secrets == {"url": "https://a.example/h", "signing_secret": "s1"}

    receiver_save(receiver=receiver, config={}, secrets={}, clear_secrets=("signing_secret",))
    receiver.refresh_from_db()
    assert receiver.secrets == {"url": "https://a.example/h"}
