"""Binding a Telegram account to a Herald person: the bot's /link answer and the page it opens.

The bot answers /link (in a private chat) with a short-lived link signed with
the tenant's link keys, naming the Telegram user; a member of the tenant
who opens it, logged in, binds that Telegram user to their own person as a
verified `telegram` contact method. Pressing a button then acts as them,
and pages can reach them in their chat with the bot. The signature binds
the tenant (another tenant's link fails) and the Telegram user id (it
cannot be changed to someone else's).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerting.audit.services import AuditActor, audit_action
from alerting.encryption import SecretUnreadable
from escalation.models import ContactMethod, Person
from escalation.people.confirmation import contact_method_state
from escalation.people.services import contact_method_create
from tenants.link_keys import link_keys_verifying
from tenants.models import Domain, Tenant

KIND = "telegram"
_SALT = "herald.telegram-link"
LINK_MAX_AGE_SECONDS = 15 * 60
_TOKEN_MAX_LENGTH = 400


class TelegramLinkError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TelegramLinkClaim:
    tenant: Tenant
    telegram_user_id: int
    telegram_name: str


def _signer(keys: list[str]) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=_SALT)


def telegram_link_token(*, tenant: Tenant, telegram_user_id: int, telegram_name: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    payload = {"t": tenant.slug, "u": telegram_user_id, "n": telegram_name[:64]}
    return f"{tenant.slug}:{_signer([tenant.link_signing_key]).sign_object(payload)}"


def tenant_base_url(tenant: Tenant) -> str:
    """The tenant's own host (where its members log in), with HERALD_BASE_URL's scheme and port."""
    base = urlsplit(settings.HERALD_BASE_URL)
    domain = (Domain.objects.filter(tenant=tenant).order_by("-is_primary", "id")
              .values_list("domain", flat=True).first())
    if not domain:
        return settings.HERALD_BASE_URL.rstrip("/")
    port = f":{base.port}" if base.port else ""
    return f"{base.scheme}://{domain}{port}"


def telegram_link_url(*, tenant: Tenant, telegram_user_id: int, telegram_name: str) -> str:
    token = telegram_link_token(
        tenant=tenant, telegram_user_id=telegram_user_id, telegram_name=telegram_name
    )
    return f"{tenant_base_url(tenant)}/telegram/link/{token}/"


def telegram_link_read(*, token: str, tenant: Tenant) -> TelegramLinkClaim:
    """What a link says, for the tenant whose host it was opened on; TelegramLinkError if bad."""
    if len(token) > _TOKEN_MAX_LENGTH:
        raise TelegramLinkError("This link is not valid.")
    slug, _, signed = token.partition(":")
    if slug != tenant.slug:
        raise TelegramLinkError("This link is not valid.")
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise TelegramLinkError(
            "Herald cannot check this link right now (its signing keys cannot be decrypted).",
            status=503,
        ) from None
    try:
        value = _signer(keys).unsign_object(signed, max_age=LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise TelegramLinkError(
            "This link has expired: send /link to the bot again.", status=410
        ) from None
    except signing.BadSignature:
        raise TelegramLinkError("This link is not valid.") from None
    if (not isinstance(value, dict) or value.get("t") != tenant.slug
            or not isinstance(value.get("u"), int) or not isinstance(value.get("n"), str)):
        raise TelegramLinkError("This link is not valid.")
    return TelegramLinkClaim(tenant=tenant, telegram_user_id=value["u"],
                             telegram_name=value["n"])


def telegram_person(*, telegram_user_id: int) -> Person | None:
    """The person a Telegram user is bound to: their verified `telegram` contact method."""
    method = (ContactMethod.objects.filter(kind=KIND, address=str(telegram_user_id),
                                           verified_at__isnull=False)
              .select_related("person").order_by("verified_at", "id").first())
    return method.person if method else None


def telegram_account_link(
    *, claim: TelegramLinkClaim, person: Person, by: AuditActor
) -> ContactMethod:
    """Bind the claim's Telegram user to the person (verified); refused if someone else has it."""
    address = str(claim.telegram_user_id)
    with transaction.atomic():
        other = telegram_person(telegram_user_id=claim.telegram_user_id)
        if other is not None and other.pk != person.pk:
            raise ValidationError({"address": (
                f"This Telegram account is already linked to {other.display_name}: they "
                "remove that contact method first."
            )})
        method = ContactMethod.objects.filter(person=person, kind=KIND, address=address).first()
        if method is None:
            method = contact_method_create(person=person, kind=KIND, address=address,
                                           label=f"Telegram {claim.telegram_name}"[:100], by=by)
        if method.verified_at is None:
            before = contact_method_state(method)
            method.verified_at = timezone.now()
            method.save(update_fields=["verified_at"])
            audit_action(by=by, action="contact_method_verify", obj=method, before=before,
                         after=contact_method_state(method))
    return method
