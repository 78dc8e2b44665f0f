"""A click on one of Herald's Slack buttons, done in a task: who clicked, may they, what happened.

The Slack user is mapped to their person (linking.py); an unlinked user is
told how to link, and the action is taken by escalation.actions as that
person, which checks their rights. The person who clicked learns the
outcome in a reply only they see (Slack's response_url); the channel
message itself is edited by the ordinary delivery of the update, as for
every channel that updates in place.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from urllib.parse import urlsplit

from django.db import connection

from alerting.encryption import SecretUnreadable
from escalation.actions import (
    ActionTokenError,
    action_compact_token_read,
    actor_for_person,
    incident_action_apply,
)
from receivers.models import Receiver
from receivers.slack_bot.linking import slack_link_url, slack_person
from receivers.slack_bot.payloads import Click, ephemeral
from receivers.transports.errors import TransportError
from receivers.transports.http import http_post
from receivers.transports.slack_app import API_URL, SlackAppTransport

logger = logging.getLogger(__name__)

CHANNEL = "slack"
# Where Slack's response_url points; a stand-in API's own host is accepted too (tests).
_RESPONSE_HOSTS = frozenset({"hooks.slack.com"})
_RESPONSE_TIMEOUT_SECONDS = 5.0


def click_as_task_args(click: Click) -> dict[str, str]:
    return asdict(click)


def link_reply(*, user_id: str, user_name: str) -> str:
    """What an unlinked Slack user is told; nothing they asked for was done."""
    tenant = connection.tenant
    try:
        url = slack_link_url(tenant=tenant, slack_user_id=user_id, slack_name=user_name)
    except SecretUnreadable:
        return "Herald cannot link Slack accounts right now; ask an admin. Nothing was changed."
    return (f"Herald does not know who you are in {tenant.name} yet, so nothing was changed. "
            f"<{url}|Link your Slack account> (the link works for 15 minutes), then try again.")


def slack_click_run(*, receiver_id: int, click: Click) -> str:
    """Act on the click as its Slack user's person; returns what they were told."""
    tenant = connection.tenant
    receiver = Receiver.objects.filter(id=receiver_id, kind=SlackAppTransport.kind).first()
    if receiver is None:
        return "the receiver was deleted"
    try:
        request = action_compact_token_read(tenant=tenant, token=click.token)
    except ActionTokenError as exc:
        reply = f"{exc} Nothing was changed."
    else:
        person = slack_person(slack_user_id=click.user_id)
        if person is None:
            reply = link_reply(user_id=click.user_id, user_name=click.user_name)
        else:
            outcome = incident_action_apply(
                tenant=tenant, request=request, actor=actor_for_person(person_id=person.id),
                channel=CHANNEL,
            )
            reply = outcome.message
    reply_send(receiver=receiver, response_url=click.response_url, text=reply)
    return reply


def response_url_allowed(*, response_url: str, api_url: str) -> bool:
    """Slack's own hook host, or the host of the receiver's (stand-in) Web API."""
    parts, api = urlsplit(response_url), urlsplit(api_url or API_URL)
    if parts.scheme == "https" and parts.hostname in _RESPONSE_HOSTS:
        return True
    return (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)


def reply_send(*, receiver: Receiver, response_url: str, text: str) -> bool:
    """Tell the person who clicked, through the response_url; False when it cannot go."""
    if not response_url_allowed(response_url=response_url,
                                api_url=str(receiver.config.get("api_url") or API_URL)):
        logger.warning("receiver %r: a Slack click's response_url is not Slack's; no reply",
                       receiver.name)
        return False
    try:
        http_post(response_url, allow_private=connection.tenant.allow_private_targets,
                  json=ephemeral(text), timeout=_RESPONSE_TIMEOUT_SECONDS)
    except TransportError as exc:
        # The response_url is a credential of its own: the error never names it.
        logger.warning("receiver %r: the reply to a Slack click failed: %s",
                       receiver.name, exc.message)
        return False
    return True
