"""What a provider reports after a send: the SMS was delivered, the call not answered.

A send that the provider accepted is recorded as delivered at once (the
worker cannot wait for the phone); the provider's later report (Twilio's
status callback) lands on that attempt. Delivered confirms it. Undelivered
or failed (an SMS), busy, no answer, failed or canceled (a call) fail it:
the attempt and its notification are marked failed with the provider's
status, the outcome goes to the audit trail, and a person's page moves to
their next notification rule at once (escalation.paging.pages), unless a
later rule's message went out meanwhile.

Reports are idempotent: the first final status an attempt gets is kept,
and a repeated or later report changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from alerting.audit.outcomes import audit_outcomes_stage, outcome_of
from receivers.models import AttemptOutcome, Notification, NotificationState

PROVIDER_STATUS_LIMIT = 32


def notification_receipt_record(
    *, notification_id: int, delivered: bool, provider_status: str
) -> str:
    """Record the provider's final report on the notification's last attempt.

    Returns what happened, for the caller's log: "confirmed", "failed",
    "already" (it had a report) or "unknown" (no such notification or attempt).
    """
    status = provider_status[:PROVIDER_STATUS_LIMIT]
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .filter(id=notification_id).first()
        )
        attempt = (
            notification.delivery_attempts.order_by("-number").first()
            if notification is not None else None
        )
        if notification is None or attempt is None:
            return "unknown"
        if attempt.provider_status:
            return "already"
        attempt.provider_status = status
        if delivered or attempt.outcome != AttemptOutcome.DELIVERED:
            attempt.save(update_fields=["provider_status"])
            return "confirmed" if delivered else "already"
        what = "call" if notification.contact_kind == "voice" else "message"
        error = f"the provider reports the {what} {status}"
        attempt.outcome = AttemptOutcome.FAILED
        attempt.error = error
        attempt.save(update_fields=["provider_status", "outcome", "error"])
        notification.state = NotificationState.FAILED
        notification.last_error = error
        notification.save(update_fields=["state", "last_error", "updated_at"])
        audit_outcomes_stage(outcomes=[outcome_of(notification)], now=timezone.now())
        if notification.page_id is not None and not Notification.objects.filter(
            page_id=notification.page_id, id__gt=notification.id
        ).exists():
            # Only the page's latest message moves it on: a late report of an
            # earlier rule's, after the next rule was sent, leaves the rest on time.
            # Imported here: escalation's paging imports the delivery package.
            from escalation.paging.pages import page_contact_failed

            page_contact_failed(page_id=notification.page_id)
    return "failed"
