"""The message a notification carries, built from its database rows.

Pure but for one read for a channel that threads replies (email): the message
its thread replies to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MessageAction:
    """One button a message offers: the signed action page for link channels, the
    compact token for button channels (escalation.actions)."""

    action: str  # escalation.actions.Action: "acknowledge", "silence_4h", ...
    label: str  # "Silence 4 h"
    url: str  # the action page (/act/<token>/), naming who the message went to
    token: str  # at most 48 ASCII characters, for a chat button's value


@dataclass(frozen=True)
class AlertMessage:
    notification_id: int
    tenant_slug: str
    receiver_name: str
    status: str
    group_key: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    truncated_alerts: int
    alerts: list[dict[str, Any]]
    tenant_name: str = ""
    receiver_kind: str = ""
    # An acknowledgement to pass on (PagerDuty, Opsgenie), not an alert.
    acknowledged: bool = False
    acknowledge_url: str = ""
    # The notification whose message opened this group's thread for the receiver
    # (channels that thread replies): later ones reply to it. None: this one opens it.
    thread_root_id: int | None = None
    # A person's page: the contact method it goes to. Its keys (deduplication,
    # threads) are the person's own, apart from the group's other messages.
    contact_method_id: int | None = None
    alert_group_id: int = 0
    incident: int = 0  # the group's incident the message is about
    # The actions that still make sense for the group's state (none once resolved).
    actions: tuple[MessageAction, ...] = ()
    # The group's state when sent: "firing", "acknowledged" or "resolved".
    group_state: str = "firing"
    acknowledged_by: str = ""
    resolved_by: str = ""
    # An update passed on to a channel that edits its message in place:
    # "acknowledged" or "unacknowledged" (the notification's group_update).
    group_update: str = ""
    # The vendor's reference of the message that opened this incident's thread
    # for this receiver (and contact method); None when this one opens it.
    thread_root_ref: Mapping[str, str] | None = None

    def action(self, action: str) -> MessageAction | None:
        """The message's button for `action`, if it offers it."""
        return next((offered for offered in self.actions if offered.action == action), None)


def message_group_state(group) -> str:
    """"firing", "acknowledged" or "resolved": what a message says of its group now."""
    if group.status == "resolved":
        return "resolved"
    return "acknowledged" if group.acknowledged_at is not None else "firing"


def alert_message_for(
    notification, *, tenant_slug: str, tenant_name: str = "", acknowledge_url: str = "",
    actions: tuple[MessageAction, ...] = (),
) -> AlertMessage:
    group = notification.alert_group
    return AlertMessage(
        notification_id=notification.id,
        tenant_slug=tenant_slug,
        tenant_name=tenant_name,
        receiver_name=notification.receiver_name,
        receiver_kind=notification.channel,
        status=notification.status,
        group_key=group.group_key,
        group_labels=group.group_labels,
        common_labels=group.common_labels,
        common_annotations=group.common_annotations,
        external_url=group.external_url,
        truncated_alerts=group.truncated_alerts,
        alerts=notification.alerts,
        acknowledged=notification.acknowledgement,
        acknowledge_url=acknowledge_url,
        thread_root_id=_thread_root_id(notification),
        contact_method_id=getattr(notification, "contact_method_id", None),
        alert_group_id=group.id,
        incident=notification.incident or group.incident,
        actions=actions,
        group_state=message_group_state(group),
        acknowledged_by=group.acknowledged_by if group.acknowledged_at is not None else "",
        resolved_by=group.resolved_by if group.status == "resolved" else "",
        group_update=notification.group_update,
        thread_root_ref=_thread_root_ref(notification, group),
    )


def _thread_root_ref(notification, group) -> Mapping[str, str] | None:
    """For a channel that edits or threads its messages, the incident's first message.

    One read, for those channels only: the vendor's reference of the first
    message delivered to this receiver (and contact method) about this
    incident of the group; a re-fire (the next incident) opens a new one.
    """
    from receivers.selectors import notification_thread_root
    from receivers.transports.registry import TRANSPORTS

    transport = TRANSPORTS.get(notification.channel)
    if (
        transport is None
        or not transport.updates_in_place
        or notification.is_digest
        or notification.id is None
    ):
        return None
    root = notification_thread_root(
        receiver_id=notification.receiver_id,
        alert_group_id=group.id,
        incident=notification.incident or group.incident,
        before_id=notification.id,
        contact_method_id=getattr(notification, "contact_method_id", None),
    )
    return root.vendor_ref if root is not None else None


def _thread_root_id(notification) -> int | None:
    """For a channel that threads replies, the first message delivered about the group.

    Mail clients thread by Message-ID, so a reply must name a mail that was
    really sent; only the database knows which one that was (one read).
    """
    # Imported here: the transports import this module, and models need the app registry.
    from receivers.selectors import notification_thread_root_id
    from receivers.transports.registry import TRANSPORTS

    transport = TRANSPORTS.get(notification.channel)
    if (
        transport is None
        or not transport.threads_replies
        or notification.is_digest
        or notification.id is None
    ):
        return None

    return notification_thread_root_id(
        receiver_id=notification.receiver_id,
        alert_group_id=notification.alert_group_id,
        before_id=notification.id,
        contact_method_id=getattr(notification, "contact_method_id", None),
    )


def group_dedup_key(message: AlertMessage) -> str:
    """A stable key per tenant and alert group, for vendors that deduplicate.

    Hashed so it fits every vendor's limit (PagerDuty 255, Opsgenie alias 512)
    whatever the groupKey's length, and names no label to the vendor. A
    person's page has a key of its own (the contact method's), so a vendor
    keeps each person's page apart from the group's channel messages.
    """
    key = f"{message.tenant_slug}\n{message.group_key}"
    if message.contact_method_id is not None:
        key += f"\ncontact-method:{message.contact_method_id}"
    return hashlib.sha256(key.encode()).hexdigest()
