"""Transports by receiver kind: each channel is one module, registered here.

What other modules need to know of a channel (its parts, limits, templates,
Alertmanager import) is read through the registry (receivers.transports.registry).
"""

from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.discord import DiscordTransport
from receivers.transports.email import EmailTransport
from receivers.transports.jira import JiraTransport
from receivers.transports.msteams import TeamsTransport
from receivers.transports.opsgenie import OpsgenieTransport
from receivers.transports.pagerduty import PagerDutyTransport
from receivers.transports.registry import (
    TRANSPORTS,
    alertmanager_mappings,
    channel_choices,
    channel_declaration_problems,
    channel_kinds,
    channel_parts,
    channel_register,
    channel_registered,
    channel_unregister,
    part_is_html,
    part_limit,
    templated_channel_choices,
    templated_kinds,
    transport_class,
)
from receivers.transports.servicenow import ServiceNowTransport
from receivers.transports.settings import ChannelSettings, SettingsError
from receivers.transports.slack import SlackTransport
from receivers.transports.slack_app import SlackAppTransport
from receivers.transports.sns import SnsTransport
from receivers.transports.telegram import TelegramTransport
from receivers.transports.twilio import TwilioTransport
from receivers.transports.webhook import WebhookTransport

# The order is the admin chooser's and Receiver.kind's choices'.
for _transport in (
    WebhookTransport,
    SlackTransport,
    EmailTransport,
    PagerDutyTransport,
    TeamsTransport,
    DiscordTransport,
    OpsgenieTransport,
    TelegramTransport,
    SlackAppTransport,
    SnsTransport,
    TwilioTransport,
    ServiceNowTransport,
    JiraTransport,
):
    channel_register(_transport)


def settings_class(kind: str) -> type[ChannelSettings]:
    return TRANSPORTS[kind].settings_class


__all__ = [
    "TRANSPORTS",
    "ChannelSettings",
    "PartLimit",
    "SendResult",
    "SettingsError",
    "Transport",
    "TransportError",
    "alertmanager_mappings",
    "channel_choices",
    "channel_declaration_problems",
    "channel_kinds",
    "channel_parts",
    "channel_register",
    "channel_registered",
    "channel_unregister",
    "part_is_html",
    "part_limit",
    "settings_class",
    "templated_channel_choices",
    "templated_kinds",
    "transport_class",
]
