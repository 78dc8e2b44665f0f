"""Binding a Slack user to a Herald person: the "link your account" answer and the page it opens.

An unlinked user who clicks a button (or types `/herald`) gets, in a reply
only they see, a short-lived link signed with the tenant's link keys naming
their Slack user id. A member of the tenant who opens it logged in binds that
Slack user to their own person as a verified `slack_app` contact method:
their clicks then act as them, and pages can reach them by DM. The signature
binds the tenant (another tenant's link fails on this host) and the user id.
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

KIND = "slack_app"
_SALT = "herald.slack-link"
LINK_MAX_AGE_SECONDS = 15 * 60
_TOKEN_MAX_LENGTH = 400


class SlackLinkError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SlackLinkClaim:
    tenant: Tenant
    slack_user_id: str
    slack_name: str


def _signer(keys: list[str]) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=_SALT)


def tenant_host_url(tenant: Tenant) -> str:
    """The tenant's own host, where its members log in (HERALD_BASE_URL's scheme and port)."""
    base = urlsplit(settings.HERALD_BASE_URL)
    domain = (Domain.objects.filter(tenant=tenant).order_by("-is_primary", "id")
              .values_list("domain", flat=True).first())
    if not domain:
        return settings.HERALD_BASE_URL.rstrip("/")
    port = f":{base.port}" if base.port else ""
    return f"{base.scheme}://{domain}{port}"


def slack_link_url(*, tenant: Tenant, slack_user_id: str, slack_name: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    payload = {"t": tenant.slug, "u": slack_user_id, "n": slack_name[:64]}
    token = f"{tenant.slug}:{_signer([tenant.link_signing_key]).sign_object(payload)}"
    return f"{tenant_host_url(tenant)}/slack/link/{token}/"


def slack_link_read(*, token: str, tenant: Tenant) -> SlackLinkClaim:
    """What a link says, for the tenant whose host it was opened on; SlackLinkError if bad."""
    slug, _, signed = token.partition(":")
    if len(token) > _TOKEN_MAX_LENGTH or slug != tenant.slug:
        raise SlackLinkError("This link is not valid.")
    try:
        keys = link_keys_verifying(tenant=tenant)
    except SecretUnreadable:
        raise SlackLinkError(
            "Herald cannot check this link right now (its signing keys cannot be decrypted).",
            status=503,
        ) from None
    try:
        value = _signer(keys).unsign_object(signed, max_age=LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise SlackLinkError("This link has expired: click the button in Slack again.",
                             status=410) from None
    except signing.BadSignature:
        raise SlackLinkError("This link is not valid.") from None
    if (not isinstance(value, dict) or value.get("t") != tenant.slug
            or not isinstance(value.get("u"), str) or not isinstance(value.get("n"), str)):
        raise SlackLinkError("This link is not valid.")
    return SlackLinkClaim(tenant=tenant, slack_user_id=value["u"], slack_name=value["n"])


def slack_person(*, slack_user_id: str) -> Person | None:
    """The person a Slack user is bound to: their verified `slack_app` contact method."""
    method = (ContactMethod.objects.filter(kind=KIND, address=slack_user_id,
                                           verified_at__isnull=False)
              .select_related("person").order_by("verified_at", "id").first())
    return method.person if method else None


def slack_account_link(*, claim: SlackLinkClaim, person: Person, by: AuditActor) -> ContactMethod:
    """Bind the claim's Slack user to the person (verified); refused if someone else has it."""
    with transaction.atomic():
        other = slack_person(slack_user_id=claim.slack_user_id)
        if other is not None and other.pk != person.pk:
            raise ValidationError({"address": (
                f"This Slack account is already linked to {other.display_name}: they "
                "remove that contact method first."
            )})
        method = ContactMethod.objects.filter(
            person=person, kind=KIND, address=claim.slack_user_id
        ).first()
        if method is None:
            label = f"Slack {claim.slack_name}".strip()[:100]
            method = contact_method_create(person=person, kind=KIND,
                                           address=claim.slack_user_id, label=label, by=by)
        if method.verified_at is None:
            before = contact_method_state(method)
            method.verified_at = timezone.now()
            method.save(update_fields=["verified_at"])
            audit_action(by=by, action="contact_method_verify", obj=method, before=before,
                         after=contact_method_state(method))
    return method
