"""Binding a chat account (Slack, Telegram) to a Herald person through a signed link.

A chat user Herald does not know yet gets, in a reply only they see, a
short-lived link signed with the tenant's link keys naming their chat user
id. A member of the tenant who opens it logged in binds that user to their
own person as a verified contact method of the chat's kind: their clicks
then act as them, and pages can reach them in the chat. The signature binds
the tenant (another tenant's link fails on this host) and the user id (it
cannot be changed to someone else's). Each chat names its own salt, so a
Slack link is no Telegram link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from alerting.audit.services import AuditActor, audit_action
from alerting.encryption import SecretUnreadable
from escalation.models import ContactMethod, Person
from escalation.people.confirmation import contact_method_state
from escalation.people.services import contact_method_create
from tenants.link_keys import link_keys_verifying
from tenants.models import Domain, Tenant

LINK_MAX_AGE_SECONDS = 15 * 60
_TOKEN_MAX_LENGTH = 400


@dataclass(frozen=True)
class ChatAccounts:
    """One chat's links: the contact kind they bind, and how the page speaks of the chat."""

    kind: str  # the contact method's kind, e.g. "slack_app"
    salt: str
    service: str  # "Slack"
    path: str  # the URL's first segment: /<path>/link/<token>/
    ask_again: str  # what to do when a link expired
    reach: str  # how Herald pages a linked person there


class ChatLinkError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ChatLinkClaim:
    tenant: Tenant
    user_id: str
    name: str


def _signer(accounts: ChatAccounts, keys: list[str]) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=accounts.salt)


def tenant_host_url(tenant: Tenant) -> str:
    """The tenant's own host, where its members log in (HERALD_BASE_URL's scheme and port)."""
    base = urlsplit(settings.HERALD_BASE_URL)
    domain = (Domain.objects.filter(tenant=tenant).order_by("-is_primary", "id")
              .values_list("domain", flat=True).first())
    if not domain:
        return settings.HERALD_BASE_URL.rstrip("/")
    port = f":{base.port}" if base.port else ""
    return f"{base.scheme}://{domain}{port}"


def chat_link_token(*, accounts: ChatAccounts, tenant: Tenant, user_id: str, name: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    payload = {"t": tenant.slug, "u": str(user_id), "n": name[:64]}
    return f"{tenant.slug}:{_signer(accounts, [tenant.link_signing_key]).sign_object(payload)}"


def chat_link_url(*, accounts: ChatAccounts, tenant: Tenant, user_id: str, name: str) -> str:
    token = chat_link_token(accounts=accounts, tenant=tenant, user_id=user_id, name=name)
    return f"{tenant_host_url(tenant)}/{accounts.path}/link/{token}/"


def chat_link_read(*, accounts: ChatAccounts, token: str, tenant: Tenant) -> ChatLinkClaim:
    """What a link says, for the tenant whose host it was opened on; ChatLinkError if bad."""
    slug, _, signed = token.partition(":")
    if len(token) > _TOKEN_MAX_LENGTH or slug != tenant.slug:
        raise ChatLinkError(gettext("This link is not valid."))
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise ChatLinkError(
            gettext(
                "Herald cannot check this link right now (its signing keys cannot be decrypted)."
            ),
            status=503,
        ) from None
    try:
        value = _signer(accounts, keys).unsign_object(signed, max_age=LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ChatLinkError(
            gettext("This link has expired: %(again)s.") % {"again": accounts.ask_again},
            status=410,
        ) from None
    except signing.BadSignature:
        raise ChatLinkError(gettext("This link is not valid.")) from None
    if (not isinstance(value, dict) or value.get("t") != tenant.slug
            or not isinstance(value.get("u"), str) or not isinstance(value.get("n"), str)):
        raise ChatLinkError(gettext("This link is not valid."))
    return ChatLinkClaim(tenant=tenant, user_id=value["u"], name=value["n"])


def chat_person(*, accounts: ChatAccounts, user_id: str) -> Person | None:
    """The person a chat user is bound to: their verified contact method of the chat's kind."""
    method = (ContactMethod.objects.filter(kind=accounts.kind, address=str(user_id),
                                           verified_at__isnull=False)
              .select_related("person").order_by("verified_at", "id").first())
    return method.person if method else None


def chat_account_link(
    *, accounts: ChatAccounts, claim: ChatLinkClaim, person: Person, by: AuditActor
) -> ContactMethod:
    """Bind the claim's chat user to the person (verified); refused if someone else has it."""
    with transaction.atomic():
        other = chat_person(accounts=accounts, user_id=claim.user_id)
        if other is not None and other.pk != person.pk:
            raise ValidationError({"address": gettext(
                "This %(service)s account is already linked to %(person)s: they remove that "
                "contact method first."
            ) % {"service": accounts.service, "person": other.display_name}})
        method = ContactMethod.objects.filter(
            person=person, kind=accounts.kind, address=claim.user_id
        ).first()
        if method is None:
            label = f"{accounts.service} {claim.name}".strip()[:100]
            method = contact_method_create(person=person, kind=accounts.kind,
                                           address=claim.user_id, label=label, by=by)
        if method.verified_at is None:
            before = contact_method_state(method)
            method.verified_at = timezone.now()
            method.save(update_fields=["verified_at"])
            audit_action(by=by, action="contact_method_verify", obj=method, before=before,
                         after=contact_method_state(method))
    return method
