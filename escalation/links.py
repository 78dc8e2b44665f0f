"""Signed, expiring acknowledge links: one per tenant and alert group.

Signed with the tenant's own key (HMAC, Django's TimestampSigner), so a link
forged or altered, or moved to another tenant, fails the check.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from tenants.models import Tenant

_SALT = "herald.acknowledge"


class LinkError(Exception):
    """The link cannot be used; `expired` tells the two cases apart."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _signer(tenant: Tenant) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=tenant.link_signing_key, salt=_SALT)


def acknowledge_token(*, tenant: Tenant, alert_group_id: int) -> str:
    return _signer(tenant).sign(f"{tenant.slug}:{alert_group_id}")


def acknowledge_url(*, tenant: Tenant, alert_group_id: int) -> str:
    token = acknowledge_token(tenant=tenant, alert_group_id=alert_group_id)
    return f"{settings.HERALD_BASE_URL}/ack/{token}/"


def acknowledge_token_read(token: str) -> tuple[Tenant, int]:
    """The tenant and alert group a token names; raises LinkError if it is not good."""
    slug, _, _ = token.partition(":")
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise LinkError("This link is not valid.")
    try:
        value = _signer(tenant).unsign(token, max_age=settings.HERALD_ACK_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise LinkError("This link has expired.", expired=True) from None
    except signing.BadSignature:
        raise LinkError("This link is not valid.") from None
    _, _, group_id = value.partition(":")
    return tenant, int(group_id)
