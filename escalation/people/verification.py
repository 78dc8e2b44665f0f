"""Signed confirmation links for contact methods.

A token names the tenant, the contact method and the address it confirms,
signed with the tenant's link signing keys (HMAC, Django's TimestampSigner)
under a salt of its own, so an acknowledge link can never pass for one. The
address is in the signed value: a link sent before the address changed
confirms nothing afterwards.

Token: `<tenant slug>:<signed JSON object>` (the slug picks the keys; the
signed object repeats it), as action links are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext

from alerting.encryption import SecretUnreadable
from tenants.link_keys import link_keys_verifying
from tenants.models import Tenant

_SALT = "herald.contact-method-verification"
# Long enough for a weekend away from the inbox; a resend makes a fresh one.
VERIFICATION_MAX_AGE_SECONDS = 3 * 24 * 3600
# The slug and the signed value are short; anything longer is not a token of ours.
_TOKEN_MAX_LENGTH = 1000


class VerificationError(Exception):
    """The link confirms nothing; `status` is the HTTP status its page answers with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class VerificationClaim:
    """What a good token says."""

    tenant: Tenant
    contact_method_id: int
    address: str


def _signer(keys: list[str]) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=_SALT)


def verification_token(*, tenant: Tenant, contact_method_id: int, address: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    payload = {"t": tenant.slug, "m": contact_method_id, "a": address}
    return f"{tenant.slug}:{_signer([tenant.link_signing_key]).sign_object(payload)}"


def verification_url(*, tenant: Tenant, contact_method_id: int, address: str) -> str:
    token = verification_token(tenant=tenant, contact_method_id=contact_method_id, address=address)
    return f"{settings.HERALD_BASE_URL}/contact/verify/{token}/"


def verification_token_read(token: str) -> VerificationClaim:
    """What a token says; VerificationError when it is forged, altered, expired or not ours."""
    if len(token) > _TOKEN_MAX_LENGTH:
        raise VerificationError(gettext("This link is not valid."))
    slug, _, signed = token.partition(":")
    tenant = Tenant.objects.filter(slug=slug).first() if slug else None
    if tenant is None:
        raise VerificationError(gettext("This link is not valid."))
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise VerificationError(
            gettext(
                "Herald cannot check this link right now (its signing keys cannot be decrypted)."
            ),
            status=503,
        ) from None
    try:
        value = _signer(keys).unsign_object(signed, max_age=VERIFICATION_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise VerificationError(
            gettext("This link has expired: ask for a new confirmation mail."), status=410
        ) from None
    except signing.BadSignature:
        raise VerificationError(gettext("This link is not valid.")) from None
    if (
        not isinstance(value, dict)
        or value.get("t") != tenant.slug
        or not isinstance(value.get("m"), int)
        or not isinstance(value.get("a"), str)
    ):
        raise VerificationError(gettext("This link is not valid."))
    return VerificationClaim(tenant=tenant, contact_method_id=value["m"], address=value["a"])


def verification_mail_text(*, person_name: str, tenant_name: str, address: str, url: str) -> str:
    """The plain text of the confirmation mail (pure)."""
    return gettext(
        "Hello %(person)s,\n\n"
        "Herald (%(tenant)s) will page you at %(address)s when you are on call.\n"
        "Open this link to confirm that this address is yours:\n\n%(url)s\n\n"
        "The link works for 3 days. If you did not expect this mail, ignore it: "
        "nobody will be paged at this address until it is confirmed.\n"
    ) % {"person": person_name, "tenant": tenant_name, "address": address, "url": url}
