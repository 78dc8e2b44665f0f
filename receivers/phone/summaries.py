"""The one summary SMS for pages a person's phone limit held back.

The first page held for a number opens a summary, due when the number's
15-minute window lets one through again; later ones held meanwhile only add
to its count. When due (an ETA task, or the escalation tick's sweep), it goes
as an SMS through the carrier of that number's SMS pages, in the person's
language, and counts at that carrier's price (never against the limit). A
summary that cannot go (no SMS carrier for the number, the ceiling, the
provider refused) records why and is done: it is a courtesy, the held pages
are recorded on their own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alerting.encryption import SecretUnreadable
from receivers.models import PhoneSummary
from receivers.phone.speech import held_summary_text
from receivers.redaction import secrets_scrub
from receivers.transports import TransportError, transport_class
from tenants.due_work import due_work_note
from tenants.models_due import DueKind

logger = logging.getLogger(__name__)

# A task may run this much before the due time (clocks of different hosts).
_EARLY = timedelta(seconds=1)


def phone_summary_hold(*, contact_method_id: int, address: str, due_at: datetime,
                       now: datetime) -> PhoneSummary:
    """Count one more held page in the number's pending summary (opened if needed)."""
    summary = PhoneSummary.objects.select_for_update().filter(
        contact_method_id=contact_method_id, sent_at__isnull=True
    ).first()
    if summary is not None:
        PhoneSummary.objects.filter(pk=summary.pk).update(held_count=F("held_count") + 1)
        return summary
    summary = PhoneSummary.objects.create(
        contact_method_id=contact_method_id, address=address, held_count=1,
        first_held_at=now, due_at=due_at,
    )
    _schedule(summary)
    return summary


def _schedule(summary: PhoneSummary) -> None:
    from receivers.phone.tasks import phone_summary  # the task module imports this one

    summary_id, eta = summary.pk, summary.due_at

    def send() -> None:
        # The tick's index first: its sweep sends the summary if the ETA task is lost.
        due_work_note(kind=DueKind.ESCALATION, due_at=eta)
        try:
            phone_summary.apply_async((summary_id,), eta=eta)
        except Exception as exc:  # broker down (kombu raises several types): the sweep sends it
            logger.warning("phone summary left for the sweep: %s", type(exc).__name__)

    transaction.on_commit(send)


def phone_summary_send(*, summary_id: int, now: datetime | None = None) -> bool:
    """Send the summary if it is due and not sent; True if it was attempted now."""
    from receivers.delivery.phone_limits import phone_send_reserve

    now = now or timezone.now()
    with transaction.atomic():
        summary = (PhoneSummary.objects.select_for_update()
                   .filter(pk=summary_id, sent_at__isnull=True, due_at__lte=now + _EARLY)
                   .select_related("contact_method__person").first())
        if summary is None:
            return False
        carrier = _sms_carrier(summary.address)
        if carrier is None:
            summary.error = f"no enabled receiver carries SMS pages to {summary.address}"
        else:
            summary.error = phone_send_reserve(
                receiver=carrier, contact_kind="sms", contact_method_id=summary.contact_method_id,
                address=summary.address, purpose="summary", now=now,
            )
        # Claimed (sent_at) before the send, so another task cannot send it again;
        # the count is final from here (a page held meanwhile opens the next summary).
        summary.sent_at = now
        summary.save(update_fields=["sent_at", "error"])
    if carrier is not None and not summary.error:
        # Outside the transaction: no lock is held while the provider answers.
        summary.error = _send(summary, carrier)
        if summary.error:
            PhoneSummary.objects.filter(pk=summary.pk).update(error=summary.error)
    if summary.error:
        logger.warning("phone summary %s: %s", summary.pk, summary.error)
    return True


def _sms_carrier(address: str):
    from receivers.carriers import page_carrier_for

    return page_carrier_for(contact_kind="sms", address=address)


def _send(summary: PhoneSummary, carrier) -> str:
    """Send the SMS; the error, or "" when it went."""
    kind = transport_class(carrier.kind)
    language = summary.contact_method.person.language
    count = PhoneSummary.objects.filter(pk=summary.pk).values_list("held_count", flat=True)[0]
    try:
        secrets = carrier.secrets
    except SecretUnreadable:
        return "not sent: the receiver's secrets cannot be decrypted with the configured keys"
    try:
        transport = kind(
            config=kind.page_config(carrier.config, contact_kind="sms", address=summary.address),
            secrets=secrets, allow_private=connection.tenant.allow_private_targets,
        )
        transport.verification_send(address=summary.address,
                                    text=held_summary_text(count, language=language))
    except ValueError as exc:  # the number is not one the carrier takes
        return f"not sent: {exc}"[:300]
    except TransportError as exc:
        return f"not sent through {carrier.name}: {secrets_scrub(exc.message, secrets)}"[:300]
    return ""


def phone_summaries_send_due(*, now: datetime | None = None) -> int:
    """The sweep: every summary due and not sent (its ETA task lost); how many were tried."""
    now = now or timezone.now()
    ids = list(PhoneSummary.objects.filter(sent_at__isnull=True, due_at__lte=now)
               .order_by("due_at").values_list("id", flat=True)[:500])
    return sum(phone_summary_send(summary_id=summary_id, now=now) for summary_id in ids)
