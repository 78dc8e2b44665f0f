"""Confirming a contact method: the mail with its signed link, and the link opened.

The mail goes through the tenant's receiver that carries pages of the
method's channel, with that receiver's settings and the person's address;
the link (escalation.people.verification) names the address it confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor, audit_action
from alerting.encryption import SecretUnreadable
from escalation.models import ContactMethod
from escalation.people.selectors import page_carrier
from escalation.people.verification import (
    VerificationError,
    verification_mail_text,
    verification_token_read,
    verification_url,
)
from receivers.redaction import secrets_scrub
from receivers.transports import TransportError, transport_class

SYSTEM = AuditActor(name="system", source=AuditSource.SYSTEM)
# One confirmation mail a minute per contact method: a resend button pressed
# in a loop must not turn Herald into a mail cannon.
RESEND_INTERVAL = timedelta(minutes=1)


def contact_method_state(method: ContactMethod) -> dict:
    """What the audit trail records of a contact method."""
    return {"person_id": method.person_id, "kind": method.kind, "address": method.address,
            "label": method.label, "verified": method.verified_at is not None}


class VerificationSendError(Exception):
    """The confirmation mail could not be sent; the message says why, for the member."""


def contact_method_verification_send(
    *, contact_method: ContactMethod, now: datetime | None = None, by: AuditActor = SYSTEM,
) -> ContactMethod:
    """Mail the confirmation link through the tenant's receiver that carries email pages.

    At most one a minute per contact method. Raises ValidationError (already
    verified, too soon) or VerificationSendError (no carrier, the mail failed).
    """
    method = contact_method
    now = now or timezone.now()
    if method.verified_at is not None:
        raise ValidationError({"verified_at": gettext("This contact method is already verified.")})
    if method.kind == "telegram":
        raise ValidationError({"kind": gettext(
            "A Telegram account is confirmed by its owner: they send /link to the bot in a "
            "private chat and open the link it answers with."
        )})
    if method.kind != "email":
        raise ValidationError(
            {"kind": gettext("Only email addresses are confirmed by a link for now.")})
    carrier = page_carrier(kind=method.kind, address=method.address)
    if carrier is None:
        raise VerificationSendError(gettext(
            "No receiver carries email pages in this tenant: an editor marks one email "
            "receiver “carries pages”, then the confirmation mail can be sent."
        ))
    previous = ContactMethod.objects.filter(pk=method.pk).values_list(
        "verification_sent_at", flat=True
    ).first()
    claimed = ContactMethod.objects.filter(pk=method.pk, address=method.address).exclude(
        verification_sent_at__gt=now - RESEND_INTERVAL
    ).update(verification_sent_at=now)
    if not claimed:
        raise ValidationError({"verification_sent_at": gettext(
            "A confirmation mail was sent less than a minute ago: wait a minute before "
            "sending another."
        )})
    try:
        _confirmation_mail_send(method=method, carrier=carrier)
    except VerificationSendError:
        # Nothing went out: the member may try again at once.
        ContactMethod.objects.filter(pk=method.pk).update(verification_sent_at=previous)
        raise
    method.verification_sent_at = now
    audit_action(by=by, action="contact_method_verification_send", obj=method,
                 after={"address": method.address, "receiver": carrier.name})
    return method


def _confirmation_mail_send(*, method: ContactMethod, carrier) -> None:
    tenant = connection.tenant
    try:
        url = verification_url(tenant=tenant, contact_method_id=method.pk,
                               address=method.address)
    except SecretUnreadable:
        raise VerificationSendError(gettext(
            "Herald cannot decrypt the keys it needs to send the mail (see the encryption "
            "keys in the configuration)."
        )) from None
    # The mail is the person's: in their profile's language, whoever sends it.
    with translation.override(method.person.language or "en"):
        subject = gettext("Confirm your address for Herald (%(tenant)s)") % {
            "tenant": tenant.name}
        text = verification_mail_text(
            person_name=method.person.display_name, tenant_name=tenant.name,
            address=method.address, url=url,
        )
    carrier_verification_send(
        method=method, carrier=carrier, what="confirmation mail", subject=subject, text=text,
    )


def carrier_verification_send(
    *, method: ContactMethod, carrier, what: str, text: str, subject: str | None = None
) -> None:
    """Send `text` (a link or a code: `what`) through the carrier to the method's address.

    The carrier's transport is built as for a page to that address; any
    failure is a VerificationSendError saying why, with no secret in it.
    """
    tenant = connection.tenant
    try:
        secrets = carrier.secrets
    except SecretUnreadable:
        raise VerificationSendError(
            f"Herald cannot decrypt the receiver's secrets it needs to send the {what} (see "
            "the encryption keys in the configuration)."
        ) from None
    kind = transport_class(carrier.kind)
    extra = {"subject": subject} if subject is not None else {}
    try:
        transport = kind(
            config=kind.page_config(carrier.config, contact_kind=method.kind,
                                    address=method.address),
            secrets=secrets,
            allow_private=tenant.allow_private_targets,
        )
        transport.verification_send(address=method.address, text=text, **extra)
    except ValueError as exc:  # an address the carrier does not take
        raise VerificationSendError(f"The {what} could not be sent: {exc}"[:300]) from None
    except TransportError as exc:
        raise VerificationSendError(
            f"The {what} could not be sent through {carrier.name}: "
            f"{secrets_scrub(exc.message, secrets)}"
        ) from None


@dataclass(frozen=True)
class Verified:
    contact_method: ContactMethod
    already: bool  # it had been verified before this link was opened


def contact_method_verify(*, token: str, expected_tenant=None) -> Verified:
    """Mark the method the token names verified; VerificationError when the link is not good.

    `expected_tenant`: on a tenant's own host, a link of another tenant is refused.
    Runs in the token's tenant schema (the caller sets it: see escalation/views.py).
    """
    claim = verification_token_read(token)
    if expected_tenant is not None and expected_tenant.pk != claim.tenant.pk:
        raise VerificationError(gettext("This link is not valid."))
    if connection.tenant.pk != claim.tenant.pk:
        raise VerificationError(gettext("This link is not valid."))
    with transaction.atomic():
        method = (
            ContactMethod.objects.select_for_update().select_related("person")
            .filter(pk=claim.contact_method_id).first()
        )
        if method is None:
            raise VerificationError(gettext("This contact method no longer exists."), status=404)
        if method.address != claim.address:
            raise VerificationError(gettext(
                "This link was sent for an address that has since changed: "
                "ask for a new confirmation mail."), status=410,
            )
        if method.verified_at is not None:
            return Verified(contact_method=method, already=True)
        method.verified_at = timezone.now()
        method.save(update_fields=["verified_at"])
        audit_action(
            by=AuditActor(name=f"link:{method.address}"[:200], source=AuditSource.LINK),
            action="contact_method_verify", obj=method, after=contact_method_state(method),
        )
    return Verified(contact_method=method, already=False)
