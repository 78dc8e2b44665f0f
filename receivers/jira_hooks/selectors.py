"""Reads for Jira's sync back, in the schema of the tenant the URL names."""

from __future__ import annotations

import logging

from alerting.encryption import SecretUnreadable
from receivers.models import Notification, Receiver
from receivers.transports.jira import JiraSettings
from receivers.transports.settings import SettingsError

logger = logging.getLogger(__name__)

KIND = "jira"


def jira_receiver(*, receiver_id: int) -> Receiver | None:
    return Receiver.objects.filter(id=receiver_id, kind=KIND, enabled=True).first()


def jira_receiver_settings(receiver: Receiver) -> JiraSettings | None:
    """The receiver's settings; None (nothing verifies) when they cannot be read."""
    try:
        return JiraSettings.parse(config=receiver.config or {}, secrets=receiver.secrets or {})
    except SecretUnreadable:
        logger.warning("jira receiver %s: its secrets cannot be decrypted", receiver.id)
    except SettingsError as exc:
        # The errors name settings, never their values.
        logger.warning("jira receiver %s: invalid settings (%s)", receiver.id,
                       ", ".join(exc.errors))
    return None


def issue_incident(*, receiver_id: int, issue_key: str) -> tuple[int, int] | None:
    """(alert group id, incident) of the latest message sent to this issue by this receiver."""
    row = (
        Notification.objects.filter(receiver_id=receiver_id, vendor_ref__issue_key=issue_key)
        .order_by("-id").values_list("alert_group_id", "incident").first()
    )
    return row if row is not None and row[1] else None
