"""Reads for Twilio's callbacks, in the schema of the tenant the URL names."""

from __future__ import annotations

import logging

from alerting.encryption import SecretUnreadable
from escalation.models import ContactMethod
from receivers.models import Notification, Receiver

logger = logging.getLogger(__name__)

KIND = "twilio"
PHONE_KINDS = ("sms", "voice")


def twilio_receiver(*, receiver_id: int) -> Receiver | None:
    return Receiver.objects.filter(id=receiver_id, kind=KIND, enabled=True).first()


def twilio_notification(*, notification_id: int) -> Notification | None:
    """The tenant's Twilio notification of that id, with its receiver and page."""
    return (
        Notification.objects.select_related("receiver", "page")
        .filter(id=notification_id, channel=KIND, receiver__isnull=False).first()
    )


def receiver_auth_token(receiver: Receiver) -> str:
    """The receiver's auth token; empty (nothing verifies) when it cannot be read."""
    try:
        return str(receiver.secrets.get("auth_token") or "")
    except SecretUnreadable:
        logger.warning("twilio receiver %s: its secrets cannot be decrypted", receiver.id)
        return ""


def number_people(*, number: str) -> list[int]:
    """The people whose verified phone number this is."""
    return list(
        ContactMethod.objects.filter(
            kind__in=PHONE_KINDS, address=number, verified_at__isnull=False
        ).values_list("person_id", flat=True).distinct()[:20]
    )


def paged_notification(
    *, receiver_id: int, number: str, alert_group_id: int, people: list[int]
) -> Notification | None:
    """The latest page to this number about the group's current incident, for one of `people`."""
    return (
        Notification.objects.select_related("page", "alert_group")
        .filter(
            receiver_id=receiver_id, recipient_address=number, alert_group_id=alert_group_id,
            page__person_id__in=people,
        )
        .order_by("-id").first()
    )
