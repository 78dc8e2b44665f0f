"""Reads for ServiceNow's sync back, in the schema of the tenant the URL names."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from alerting.encryption import SecretUnreadable
from receivers.models import Notification, Receiver
from receivers.transports.servicenow import ServiceNowSettings
from receivers.transports.settings import SettingsError

logger = logging.getLogger(__name__)

KIND = "servicenow"


@dataclass(frozen=True)
class TicketIncident:
    """The Herald incident a ServiceNow ticket was opened (or reopened) for."""

    alert_group_id: int
    incident: int


def servicenow_receiver(*, receiver_id: int) -> Receiver | None:
    return Receiver.objects.filter(id=receiver_id, kind=KIND, enabled=True).first()


def servicenow_receiver_settings(receiver: Receiver) -> ServiceNowSettings | None:
    """The receiver's settings; None (nothing verifies) when they cannot be read."""
    try:
        return ServiceNowSettings.parse(config=receiver.config or {},
                                        secrets=receiver.secrets or {})
    except SecretUnreadable:
        logger.warning("servicenow receiver %s: its secrets cannot be decrypted", receiver.id)
    except SettingsError as exc:
        # The errors name settings, never their values.
        logger.warning("servicenow receiver %s: invalid settings (%s)", receiver.id,
                       ", ".join(exc.errors))
    return None


def ticket_incident(*, receiver_id: int, sys_id: str) -> TicketIncident | None:
    """The latest incident whose message went to this ticket through this receiver."""
    row = (
        Notification.objects.filter(receiver_id=receiver_id, vendor_ref__sys_id=sys_id)
        .order_by("-id").values_list("alert_group_id", "incident").first()
    )
    if row is None or not row[1]:
        return None
    return TicketIncident(alert_group_id=row[0], incident=row[1])
