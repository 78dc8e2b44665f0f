"""Verifying a phone number by a code: sent to the number, typed back by its owner.

Six digits, sent by SMS (or read out by a call, for a voice method) through
the receiver that carries that number's pages. Only a keyed hash of the code
is stored (HMAC under the server's secret, with the method and the number
inside, so a code is worth nothing for another number); it expires after
CODE_VALID, takes at most MAX_ATTEMPTS tries, and a new one can be sent once
a minute (the same interval as confirmation mails), MAX_CODES_PER_DAY a day.
A code costs as an SMS or call does (the month's phone spend, its ceiling).
A new code replaces the old one; a changed number needs a new code
(contact_method_update clears it).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from alerting.audit.services import AuditActor, audit_action
from escalation.models import ContactMethod
from escalation.people.confirmation import (
    RESEND_INTERVAL,
    SYSTEM,
    VerificationSendError,
    Verified,
    carrier_verification_send,
    contact_method_state,
)
from escalation.people.selectors import page_carrier
from receivers.delivery.phone_limits import phone_send_reserve
from receivers.models import PhoneSend
from receivers.phone.speech import code_sms_text, code_speech

# The contact kinds verified by a code (email is confirmed by a link).
CODE_KINDS = ("sms", "voice")
CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Codes to one number in a day: with 5 tries each, a stranger's number cannot
# be guessed into being "verified" (50 tries a day of a million codes).
MAX_CODES_PER_DAY = 10
_SALT = "herald.contact-method-code"


def code_new() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(*, code: str, contact_method_id: int, address: str) -> str:
    """The stored form of a code: keyed, and bound to the method and its number (pure)."""
    return salted_hmac(_SALT, f"{contact_method_id}\n{address}\n{code}",
                       algorithm="sha256").hexdigest()


def code_text(*, code: str, kind: str, language: str, tenant_name: str) -> str:
    """What the person gets: an SMS, or the words a call says (pure)."""
    if kind == "voice":
        return code_speech(code, language=language)
    return code_sms_text(code, language=language, tenant_name=tenant_name,
                         minutes=int(CODE_VALID.total_seconds() // 60))


def contact_method_code_send(
    *, contact_method: ContactMethod, now: datetime | None = None, by: AuditActor = SYSTEM,
) -> ContactMethod:
    """Send a new code to the method's number through the carrier of that number.

    At most one a minute. Raises ValidationError (verified already, not a
    phone method, too soon) or VerificationSendError (no carrier, the send failed:
    the earlier code, if any, still works).
    """
    method = contact_method
    now = now or timezone.now()
    if method.verified_at is not None:
        raise ValidationError({"verified_at": "This contact method is already verified."})
    if method.kind not in CODE_KINDS:
        raise ValidationError({"kind": "Only phone numbers (sms, voice) are verified by a code."})
    carrier = page_carrier(kind=method.kind, address=method.address)
    if carrier is None:
        raise VerificationSendError(
            f"No enabled receiver carries {method.kind} pages to {method.address}: an editor "
            "marks a phone provider's receiver “carries pages” (for this number's country "
            "prefix, or as the default), then the code can be sent."
        )
    if PhoneSend.objects.filter(contact_method_id=method.pk, purpose="code",
                                sent_at__gt=now - timedelta(days=1)).count() >= MAX_CODES_PER_DAY:
        raise ValidationError({"verification_sent_at": (
            f"{MAX_CODES_PER_DAY} codes were sent to this number in the last day: try again "
            "tomorrow."
        )})
    code = code_new()
    before = ContactMethod.objects.filter(pk=method.pk).values(
        "verification_sent_at", "verification_code_hash", "verification_code_expires_at",
        "verification_attempts",
    ).first()
    with transaction.atomic():
        claimed = ContactMethod.objects.filter(pk=method.pk, address=method.address).exclude(
            verification_sent_at__gt=now - RESEND_INTERVAL
        ).update(
            verification_sent_at=now,
            verification_code_hash=code_hash(code=code, contact_method_id=method.pk,
                                             address=method.address),
            verification_code_expires_at=now + CODE_VALID,
            verification_attempts=0,
        )
        if not claimed:
            raise ValidationError({"verification_sent_at": (
                "A code was sent less than a minute ago: wait a minute before sending another."
            )})
        # A code costs what an SMS or call costs, and stops at the month's ceiling too.
        refused = phone_send_reserve(
            receiver=carrier, contact_kind=method.kind, contact_method_id=method.pk,
            address=method.address, purpose="code", now=now,
        )
        if refused:
            raise VerificationSendError(f"The code was {refused} (the tenant's setting).")
    try:
        _code_send(method=method, carrier=carrier, code=code)
    except VerificationSendError:
        # Nothing went out: the earlier code (if any) stands, and a retry may go at once.
        ContactMethod.objects.filter(pk=method.pk).update(**before)
        raise
    method.refresh_from_db()
    audit_action(by=by, action="contact_method_code_send", obj=method,
                 after={"address": method.address, "kind": method.kind,
                        "receiver": carrier.name})
    return method


def _code_send(*, method: ContactMethod, carrier, code: str) -> None:
    carrier_verification_send(method=method, carrier=carrier, what="code", text=code_text(
        code=code, kind=method.kind, language=method.person.language,
        tenant_name=connection.tenant.name,
    ))


@dataclass(frozen=True)
class _Checked:
    verified: Verified | None = None
    error: str = ""


def contact_method_code_verify(
    *, contact_method: ContactMethod, code: str, now: datetime | None = None,
    by: AuditActor = SYSTEM,
) -> Verified:
    """Mark the method verified if `code` is the one last sent to its number.

    ValidationError keyed `code` when it is not: wrong (each try counts,
    MAX_ATTEMPTS in all), expired, used up, or none was sent.
    """
    now = now or timezone.now()
    typed = "".join((code or "")[:40].split())
    checked = _code_check(method_id=contact_method.pk, typed=typed, now=now, by=by)
    if checked.error:
        raise ValidationError({"code": checked.error})
    contact_method.refresh_from_db()
    return checked.verified


def _code_check(*, method_id: int, typed: str, now: datetime, by: AuditActor) -> _Checked:
    # Committed whatever the answer: a wrong try must count even though it fails.
    with transaction.atomic():
        method = (ContactMethod.objects.select_for_update().select_related("person")
                  .filter(pk=method_id).first())
        if method is None:
            return _Checked(error="This contact method no longer exists.")
        if method.verified_at is not None:
            return _Checked(verified=Verified(contact_method=method, already=True))
        if not method.verification_code_hash:
            return _Checked(error="No code is waiting for this number: send one first.")
        if method.verification_attempts >= MAX_ATTEMPTS:
            return _Checked(error=f"{MAX_ATTEMPTS} wrong codes: send a new code.")
        if method.verification_code_expires_at is None or now >= (
            method.verification_code_expires_at
        ):
            return _Checked(error="This code has expired: send a new code.")
        expected = method.verification_code_hash
        given = code_hash(code=typed, contact_method_id=method.pk, address=method.address)
        if len(typed) != CODE_DIGITS or not typed.isdigit() or not hmac.compare_digest(
            given, expected
        ):
            method.verification_attempts += 1
            method.save(update_fields=["verification_attempts"])
            left = MAX_ATTEMPTS - method.verification_attempts
            return _Checked(error=(
                f"That is not the code. {left} more tries." if left else
                f"That is not the code, and that was the last of {MAX_ATTEMPTS} tries: "
                "send a new code."
            ))
        method.verified_at = now
        method.verification_code_hash = ""
        method.verification_code_expires_at = None
        method.save(update_fields=["verified_at", "verification_code_hash",
                                   "verification_code_expires_at"])
        audit_action(by=by, action="contact_method_verify", obj=method,
                     after=contact_method_state(method))
    return _Checked(verified=Verified(contact_method=method, already=False))
