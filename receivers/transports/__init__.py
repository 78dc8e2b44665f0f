"""Transports by receiver kind."""

from receivers.transports.base import SendResult, Transport, TransportError
from receivers.transports.discord import DiscordTransport
from receivers.transports.email import EmailTransport
from receivers.transports.msteams import TeamsTransport
from receivers.transports.opsgenie import OpsgenieTransport
from receivers.transports.pagerduty import PagerDutyTransport
from receivers.transports.settings import ChannelSettings, SettingsError
from receivers.transports.slack import SlackTransport
from receivers.transports.telegram import TelegramTransport
from receivers.transports.webhook import WebhookTransport

TRANSPORTS: dict[str, type[Transport]] = {
    transport.kind: transport
    for transport in (
        WebhookTransport,
        SlackTransport,
        EmailTransport,
        PagerDutyTransport,
        TeamsTransport,
        DiscordTransport,
        OpsgenieTransport,
        TelegramTransport,
    )
}


def transport_class(kind: str) -> type[Transport]:
    return TRANSPORTS[kind]


def settings_class(kind: str) -> type[ChannelSettings]:
    return TRANSPORTS[kind].settings_class


__all__ = [
    "TRANSPORTS",
    "ChannelSettings",
    "SendResult",
    "SettingsError",
    "Transport",
    "TransportError",
    "settings_class",
    "transport_class",
]
