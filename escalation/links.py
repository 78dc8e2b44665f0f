"""Signed, expiring action links: one per tenant, incident and recipient.

A token names the tenant, the alert group, the group's incident it was sent
for (AlertGroup.incident), the action and the recipient: the receiver the
message went to, or for a person's page "person:<person id>" with the
channel it went by (so the record says "Alice, by the link in their
email"). It is signed with the tenant's link signing key (HMAC, Django's
TimestampSigner), so a link forged or altered, or moved to another
tenant, fails the check. A link of an earlier incident is refused on the
group's next one (escalation.link_actions), and a link signed with a key
that `rotate_link_keys` retired works only during the grace period
(tenants.link_keys).

Token: `<tenant slug>:<signed JSON object>`; the slug picks the keys, and
the signed object repeats it.

Besides /ack/<token>/ (acknowledge only, kept for the links already sent),
every action has a page, /act/<token>/ (escalation.views): `message_actions`
gives a message the actions that still make sense for its group, each with
its page's URL and the compact token a chat button carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext

from alerting.encryption import SecretUnreadable
from receivers.messages import MessageAction
from tenants.link_keys import link_keys_refused, link_keys_verifying
from tenants.models import Tenant

_SALT = "herald.action-link"

ACKNOWLEDGE = "acknowledge"

PERSON_PREFIX = "person:"
# Longer than any token Herald signs (a receiver's name is at most 100 characters).
TOKEN_MAX_LENGTH = 1_000


def person_recipient(person_id: int) -> str:
    """The recipient a page's link names: the person, whoever reads their mail."""
    return f"{PERSON_PREFIX}{person_id}"


class LinkError(Exception):
    """The link cannot be used; `status` is the HTTP status its page answers with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status

    @property
    def expired(self) -> bool:
        return self.status == 410


@dataclass(frozen=True)
class ActionLink:
    """What a good token says."""

    tenant: Tenant
    alert_group_id: int
    incident: int
    recipient: str
    action: str = ACKNOWLEDGE
    # The channel a person's page went by ("email"); empty for a receiver's message.
    channel: str = ""

    @property
    def actor(self) -> str:
        """Who acts through the link, for the audit trail and the group's record."""
        return f"link:{self.recipient}"[:200]

    @property
    def person_id(self) -> int | None:
        """The person a page's link was sent to; None for a receiver's message."""
        if not self.recipient.startswith(PERSON_PREFIX):
            return None
        number = self.recipient.removeprefix(PERSON_PREFIX)
        return int(number) if number.isdigit() else None


def _signer(keys: list[str]) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=_SALT)


def action_token(
    *, tenant: Tenant, alert_group_id: int, incident: int, recipient: str,
    action: str = ACKNOWLEDGE, channel: str = "",
) -> str:
    """A token for one action on one incident, sent to `recipient` (by `channel`, for a person).

    Raises SecretUnreadable when the tenant's signing key cannot be decrypted.
    """
    payload = {"t": tenant.slug, "g": alert_group_id, "i": incident, "r": recipient, "a": action}
    if channel:
        payload["c"] = channel
    return f"{tenant.slug}:{_signer([tenant.link_signing_key]).sign_object(payload)}"


def acknowledge_url(
    *, tenant: Tenant, alert_group_id: int, incident: int, recipient: str, channel: str = ""
) -> str:
    token = action_token(
        tenant=tenant, alert_group_id=alert_group_id, incident=incident, recipient=recipient,
        channel=channel,
    )
    return f"{settings.HERALD_BASE_URL}/ack/{token}/"


def action_page_url(
    *, tenant: Tenant, alert_group_id: int, incident: int, recipient: str, action: str,
    channel: str = "",
) -> str:
    """The signed page that takes `action` on the incident (GET asks, POST acts)."""
    token = action_token(
        tenant=tenant, alert_group_id=alert_group_id, incident=incident, recipient=recipient,
        action=str(action), channel=channel,
    )
    return f"{settings.HERALD_BASE_URL}/act/{token}/"


def message_actions(
    *, tenant: Tenant, alert_group_id: int, incident: int, state: str, recipient: str,
    channel: str = "",
) -> tuple[MessageAction, ...]:
    """The buttons of a message about the group in `state`: the actions that still apply.

    Raises SecretUnreadable when the tenant's signing key cannot be decrypted.
    """
    # Imported here: escalation.actions reaches alerting.services, which
    # imports the delivery modules that import this one.
    from escalation.actions.actors import action_label
    from escalation.actions.tokens import action_compact_token, actions_for_state

    return tuple(
        MessageAction(
            action=str(action),
            label=action_label(action),
            url=action_page_url(
                tenant=tenant, alert_group_id=alert_group_id, incident=incident,
                recipient=recipient, action=action, channel=channel,
            ),
            token=action_compact_token(
                tenant=tenant, alert_group_id=alert_group_id, incident=incident, action=action
            ),
        )
        for action in actions_for_state(state)
    )


def action_token_read(token: str) -> ActionLink:
    """What a token says; raises LinkError if it is not good (never says which key failed)."""
    if len(token) > TOKEN_MAX_LENGTH:  # a real one is a few hundred characters
        raise LinkError(gettext("This link is not valid."))
    slug, _, signed = token.partition(":")
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise LinkError(gettext("This link is not valid."))
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise LinkError(
            gettext(
                "Herald cannot check this link right now (its signing keys cannot be decrypted)."
            ),
            status=503,
        ) from None
    max_age = settings.HERALD_ACK_LINK_MAX_AGE_SECONDS
    try:
        value = _signer(keys).unsign_object(signed, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(gettext("This link has expired."), status=410) from None
    except signing.BadSignature:
        if _signed_by(link_keys_refused(tenant=tenant), signed, max_age):
            raise LinkError(
                gettext("This link was signed with a key that has since been retired."), status=410
            ) from None
        raise LinkError(gettext("This link is not valid.")) from None
    if not isinstance(value, dict) or value.get("t") != tenant.slug:
        raise LinkError(gettext("This link is not valid."))
    return ActionLink(
        tenant=tenant, alert_group_id=int(value["g"]), incident=int(value["i"]),
        recipient=str(value["r"]), action=str(value["a"]), channel=str(value.get("c", ""))[:32],
    )


def _signed_by(keys: list[str], signed: str, max_age: int) -> bool:
    if not keys:
        return False
    try:
        _signer(keys).unsign_object(signed, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return True
