"""Compact signed action tokens: for chat buttons, whose payload is small.

Telegram's `callback_data` holds 64 bytes and Slack's button `value` is
short too, so a chat button cannot carry the long signed link of
escalation.links. A compact token carries the alert group, the incident it
was sent for, the action and when it was issued, with a 96-bit HMAC-SHA256
tag keyed by the tenant's link signing key (tenants.link_keys: the signing
key signs; keys retired by a rotation verify during the grace period).

It does not name the tenant: the chat endpoint that receives it knows the
tenant already (the receiver the message was sent by), and the tenant's key
in the tag binds it, so another tenant's token fails the check. Nor does it
name who may use it: a chat button is pressed by whoever is in the channel,
and the endpoint maps that user to a person whose rights are checked
(escalation.actions.apply).

Format: `<action code>.<group id>.<incident>.<issued at>.<tag>`, numbers in
base 36, the tag in URL-safe base64: at most 48 ASCII characters for any
group id up to 2**63.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from alerting.encryption import SecretUnreadable
from tenants.link_keys import link_keys_refused, link_keys_verifying
from tenants.models import Tenant

MAX_TOKEN_LENGTH = 48
_TAG_BYTES = 12
_DOMAIN = b"herald.action-compact.v1"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Group ids, incidents and times fit in this many base-36 digits (2**63 needs 13).
_MAX_NUMBER_DIGITS = 13


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    RESOLVE = "resolve"
    SILENCE_1H = "silence_1h"
    SILENCE_4H = "silence_4h"
    SILENCE_24H = "silence_24h"


_CODES: dict[Action, str] = {
    Action.ACKNOWLEDGE: "a",
    Action.UNACKNOWLEDGE: "u",
    Action.RESOLVE: "r",
    Action.SILENCE_1H: "1",
    Action.SILENCE_4H: "4",
    Action.SILENCE_24H: "d",
}
_ACTIONS = {code: action for action, code in _CODES.items()}


def actions_for_state(state: str) -> tuple[Action, ...]:
    """The actions a message offers for a group in this state (none once resolved)."""
    silences = (Action.SILENCE_1H, Action.SILENCE_4H, Action.SILENCE_24H)
    if state == "firing":
        return (Action.ACKNOWLEDGE, Action.RESOLVE, *silences)
    if state == "acknowledged":
        return (Action.UNACKNOWLEDGE, Action.RESOLVE, *silences)
    return ()


class ActionTokenError(Exception):
    """The token cannot be used; `status` is the HTTP status a page answers with.

    The message says why in words a person can act on, never which key failed.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ActionRequest:
    """What a good token (or action link) asks: one action on one incident of one group."""

    alert_group_id: int
    incident: int
    action: Action


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("negative numbers have no token")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


def _number(text: str) -> int:
    if not text or len(text) > _MAX_NUMBER_DIGITS or any(c not in _DIGITS for c in text):
        raise ValueError(text)
    return int(text, 36)


def _tag(key: str, *, tenant: Tenant, body: str) -> str:
    # The tenant's id and slug are in the MAC, so a key shared by mistake
    # between two tenants still would not move a token from one to the other.
    message = b"|".join([_DOMAIN, str(tenant.id).encode(), tenant.slug.encode(), body.encode()])
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def action_compact_token(
    *, tenant: Tenant, alert_group_id: int, incident: int, action: Action | str,
    issued_at: int | None = None,
) -> str:
    """A token of at most 48 ASCII characters for one action on one incident.

    Raises SecretUnreadable when the tenant's signing key cannot be decrypted.
    """
    issued = int(time.time()) if issued_at is None else issued_at
    body = ".".join([
        _CODES[Action(action)], _base36(alert_group_id), _base36(incident), _base36(issued)
    ])
    token = f"{body}.{_tag(tenant.link_signing_key, tenant=tenant, body=body)}"
    if len(token) > MAX_TOKEN_LENGTH:  # only for numbers no database hands out
        raise ValueError("the action token would be longer than 48 characters")
    return token


def action_compact_token_read(*, tenant: Tenant, token: str) -> ActionRequest:
    """What a compact token of this tenant asks; raises ActionTokenError if it is not good."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise ActionTokenError("This button is not valid.")
    body, _, tag = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or parts[0] not in _ACTIONS:
        raise ActionTokenError("This button is not valid.")
    try:
        group_id, incident, issued = (_number(part) for part in parts[1:])
    except ValueError:
        raise ActionTokenError("This button is not valid.") from None
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise ActionTokenError(
            "Herald cannot check this button right now (its signing keys cannot be decrypted).",
            status=503,
        ) from None
    if not _any_signed(keys, tenant=tenant, body=body, tag=tag):
        if _any_signed(link_keys_refused(tenant=tenant), tenant=tenant, body=body, tag=tag):
            raise ActionTokenError(
                "This button was signed with a key that has since been retired.", status=410
            )
        raise ActionTokenError("This button is not valid.")
    age = time.time() - issued
    if age > settings.HERALD_ACK_LINK_MAX_AGE_SECONDS:
        raise ActionTokenError("This button has expired.", status=410)
    return ActionRequest(alert_group_id=group_id, incident=incident, action=_ACTIONS[parts[0]])


def _any_signed(keys: list[str], *, tenant: Tenant, body: str, tag: str) -> bool:
    """Whether one of the keys made the tag, each compared in constant time."""
    found = False
    for key in keys:
        # Every key is tried, so the time taken does not say which one matched.
        found |= hmac.compare_digest(_tag(key, tenant=tenant, body=body).encode(), tag.encode())
    return found
