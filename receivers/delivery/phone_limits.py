"""Limits on phone pages: per number a few SMS and calls per 15 minutes, and the tenant's
monthly spend ceiling. Checked as phone notifications are claimed, before any is sent.

Per contact method, at most HERALD_PHONE_SMS_PER_15_MIN SMS (default 5) and
HERALD_PHONE_CALLS_PER_15_MIN calls (default 3) in any 15 minutes; a page over
that is HELD (final, never sent) and counted in one summary SMS ("N more pages
for you in the last 15 minutes"), sent when the window lets one through again
(receivers.phone.summaries). A page's retries are not counted again.

Every SMS or call let through adds its receiver's price (price_per_sms,
price_per_call in its settings) to the month's PhoneSpend; once the month's
spend would pass the tenant's phone_monthly_spend_ceiling, phone sends fail
for good with that reason (a recorded attempt; the page's next rule comes at
once) and the admin's overview warns. Each attempt counts at its price, so a
retried SMS counts twice: the ceiling errs on the side of stopping early.

One lock (the month's spend row) orders every phone admission of a tenant,
so neither limit can be passed by workers side by side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from receivers.delivery.results import DeliveryResult
from receivers.delivery.rules import is_page
from receivers.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Notification,
    NotificationState,
    PhoneSend,
    PhoneSpend,
)
from receivers.phone.summaries import phone_summary_hold
from tenants.models import Tenant

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
PHONE_KINDS = ("sms", "voice")


def phone_limit(contact_kind: str) -> int:
    """The most pages of this kind one number gets in WINDOW (the settings, else 5 and 3)."""
    if contact_kind == "voice":
        return int(getattr(settings, "HERALD_PHONE_CALLS_PER_15_MIN", 3))
    return int(getattr(settings, "HERALD_PHONE_SMS_PER_15_MIN", 5))


def is_phone_page(notification: Notification) -> bool:
    return is_page(notification) and notification.contact_kind in PHONE_KINDS


def month_of(at: datetime) -> date:
    return at.date().replace(day=1)


def phone_price(receiver, contact_kind: str) -> Decimal:
    """The receiver's price of one SMS or call, as its settings hold it (0 when unset)."""
    config = receiver.config if receiver is not None else {}
    value = config.get("price_per_call" if contact_kind == "voice" else "price_per_sms", 0)
    try:
        return max(Decimal(str(value)), Decimal(0))
    except ArithmeticError:  # decimal.InvalidOperation: the settings check refuses it on save
        return Decimal(0)


def phone_spend_locked(*, now: datetime) -> PhoneSpend:
    """This month's spend row, locked to the end of the transaction (made if needed)."""
    month = month_of(now)
    PhoneSpend.objects.get_or_create(month=month)
    return PhoneSpend.objects.select_for_update().get(month=month)


def tenant_ceiling() -> Decimal | None:
    """The tenant's ceiling as stored now (a worker's copy of the tenant may be older)."""
    return Tenant.objects.filter(pk=connection.tenant.pk).values_list(
        "phone_monthly_spend_ceiling", flat=True).first()


def phone_send_reserve(
    *, receiver, contact_kind: str, contact_method_id: int | None, address: str,
    purpose: str, now: datetime,
) -> str:
    """Count one SMS or call outside a page (a summary, a code) at its price.

    Returns why it must not be sent ("" when it may): the month's ceiling.
    Call inside a transaction; a send that then fails still counts.
    """
    spend = phone_spend_locked(now=now)
    price = phone_price(receiver, contact_kind)
    ceiling = tenant_ceiling()
    if ceiling is not None and spend.amount + price > ceiling:
        spend.stopped_count += 1
        spend.stopped_since = spend.stopped_since or now
        spend.save()
        return "not sent: this month's phone spend ceiling is reached"
    PhoneSend.objects.create(
        contact_method_id=contact_method_id, address=address, contact_kind=contact_kind,
        receiver=receiver, counted=False, purpose=purpose, price=price, sent_at=now,
    )
    spend.amount += price
    if contact_kind == "voice":
        spend.call_count += 1
    else:
        spend.sms_count += 1
    spend.save()
    return ""


def phone_sends_admit(
    notifications: list[Notification], *, now: datetime
) -> tuple[list[Notification], dict[int, DeliveryResult]]:
    """Of leased notifications, those to send; the phone pages stopped are settled here.

    Non-phone notifications pass untouched (no query is made for them).
    """
    phone = [n for n in notifications if is_phone_page(n)]
    if not phone:
        return notifications, {}
    stopped: dict[int, DeliveryResult] = {}
    with transaction.atomic():
        spend = phone_spend_locked(now=now)
        ceiling = tenant_ceiling()
        for notification in phone:
            outcome = _admit(notification, spend=spend, ceiling=ceiling, now=now)
            if outcome is not None:
                stopped[notification.id] = DeliveryResult(outcome=outcome)
        spend.save()
    return [n for n in notifications if n.id not in stopped], stopped


def _admit(
    notification: Notification, *, spend: PhoneSpend, ceiling: Decimal | None, now: datetime
) -> str | None:
    """None: send it (its price counted); else the final state it was given."""
    kind, receiver = notification.contact_kind, notification.receiver
    price = phone_price(receiver, kind)
    if ceiling is not None and spend.amount + price > ceiling:
        spend.stopped_count += 1
        spend.stopped_since = spend.stopped_since or now
        _settle(notification, state=NotificationState.FAILED, now=now, error=(
            f"not sent: this month's phone spend ceiling is reached ({spend.amount:.2f} of "
            f"{ceiling:.2f}; a {'call' if kind == 'voice' else 'SMS'} costs {price:.4f})"
        ))
        _next_rule_now(notification)
        return NotificationState.FAILED
    # A page's first attempt counts against the number's limit; its retries do not.
    counted = notification.attempts <= 1
    if counted and notification.contact_method_id is not None:
        recent = list(
            PhoneSend.objects.filter(
                contact_method_id=notification.contact_method_id, contact_kind=kind,
                counted=True, sent_at__gt=now - WINDOW,
            ).order_by("sent_at").values_list("sent_at", flat=True)[:phone_limit(kind)]
        )
        if len(recent) >= phone_limit(kind):
            what = "calls" if kind == "voice" else "SMS"
            _settle(notification, state=NotificationState.HELD, now=now, error=(
                f"held: {len(recent)} {what} to this number in the last 15 minutes already; "
                "counted in one summary SMS"
            ))
            phone_summary_hold(contact_method_id=notification.contact_method_id,
                               address=notification.recipient_address,
                               due_at=recent[0] + WINDOW, now=now)
            return NotificationState.HELD
    PhoneSend.objects.create(
        contact_method_id=notification.contact_method_id, address=notification.recipient_address,
        contact_kind=kind, receiver=receiver, notification=notification, counted=counted,
        price=price, sent_at=now,
    )
    spend.amount += price
    if kind == "voice":
        spend.call_count += 1
    else:
        spend.sms_count += 1
    return None


def _settle(notification: Notification, *, state: str, now: datetime, error: str) -> None:
    """The leased notification ends here, with an attempt that says why (nothing was sent)."""
    DeliveryAttempt.objects.create(
        notification=notification, number=notification.attempts, started_at=now,
        outcome=AttemptOutcome.FAILED, latency_ms=0, error=error,
    )
    notification.state, notification.last_error = state, error
    notification.next_attempt_at = now
    notification.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
    logger.info("notification %s %s: %s", notification.id, state, error)


def _next_rule_now(notification: Notification) -> None:
    """A page that cannot be sent: the person's next rule (their email, perhaps) comes now."""
    if notification.page_id is None:
        return
    from escalation.paging.pages import page_contact_failed  # escalation imports receivers

    page_contact_failed(page_id=notification.page_id)


@dataclass(frozen=True)
class SpendWarning:
    level: str  # "error" (sends stopped) or "warning" (80 % of the ceiling spent)
    text: str


def phone_spend_warning(*, now: datetime | None = None) -> SpendWarning | None:
    """What the admin's overview says of this month's phone spend, if anything (a read)."""
    now = now or timezone.now()
    ceiling = connection.tenant.phone_monthly_spend_ceiling
    spend = PhoneSpend.objects.filter(month=month_of(now)).first()
    if spend is None or ceiling is None:
        return None
    spent = f"{spend.amount:.2f} of the monthly ceiling of {ceiling:.2f}"
    if spend.stopped_count:
        return SpendWarning("error", (
            f"Phone sends are stopped for the rest of {now:%B %Y}: {spent} is spent, and "
            f"{spend.stopped_count} SMS or calls were not sent (the first at "
            f"{spend.stopped_since:%Y-%m-%d %H:%M} UTC). Raise the tenant's phone spend "
            "ceiling to page by phone again."
        ))
    if spend.amount >= ceiling * Decimal("0.8"):
        return SpendWarning("warning", f"Phone spend this month: {spent}.")
    return None
