"""Reads on receivers and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from receivers.models import (
    AttemptOutcome,
    CircuitState,
    DeliveryAttempt,
    MessageTemplate,
    Notification,
    NotificationState,
    Receiver,
    ReceiverCircuit,
)


def receiver_list_enabled() -> list[Receiver]:
    """Enabled receivers, without their secrets (not decrypted on the ingest path)."""
    return list(Receiver.objects.filter(enabled=True).only("id", "name", "kind").order_by("name"))


def notification_ids_overdue(*, due_before: datetime) -> list[int]:
    """Notifications whose delivery task was lost (broker outage, killed worker).

    Pending ones past their due time, and sending ones whose lease ran out.
    """
    return list(
        Notification.objects.filter(
            state__in=[NotificationState.PENDING, NotificationState.SENDING],
            next_attempt_at__lt=due_before,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


# From each firing notification of the group to whatever carried its alerts in
# the end: a digest or grouped message (`folded_into`), or the fallback's copy
# (`failovers`), however deep. UNION drops rows already seen, so chains that
# loop end.
_TOLD_OF_FIRING_SQL = """
WITH RECURSIVE carried (id, receiver_id, state, folded_into_id) AS (
    SELECT id, receiver_id, state, folded_into_id
    FROM receivers_notification
    WHERE alert_group_id = %(group_id)s AND status = 'firing'
      -- a person's page told that person, not the receiver that carried it
      AND page_id IS NULL AND recipient_address = ''
  UNION
    SELECT n.id, n.receiver_id, n.state, n.folded_into_id
    FROM receivers_notification n
    JOIN carried c
      ON (c.state IN ('folded', 'merged') AND n.id = c.folded_into_id)
      OR (c.state = 'failed_over' AND n.failover_of_id = c.id)
)
SELECT DISTINCT receiver_id FROM carried
WHERE receiver_id IS NOT NULL AND state = ANY(%(told)s)
"""

# A receiver was told of the firing when the message that carried it was
# delivered, or is still owed it (pending, sending): delivery's grouping
# window then sends the resolve with the firing or after it. One whose
# firing failed for good, or went to its fallback instead, never heard it.
_TOLD_STATES = [
    NotificationState.DELIVERED,
    NotificationState.PENDING,
    NotificationState.SENDING,
]


def receivers_notified_of(*, alert_group_id: int) -> list[Receiver]:
    """Enabled receivers that were told (or are still owed) the group's firing.

    Followed through failovers, digests and grouped messages: after a
    failover the fallback counts and the primary that never got the message
    does not. Resolves, acknowledgements and manual resolves go to these.
    Only their id, name and kind are loaded: callers address notifications,
    and decrypting each receiver's secrets for that was wasted work.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _TOLD_OF_FIRING_SQL,
            {"group_id": alert_group_id, "told": [str(state) for state in _TOLD_STATES]},
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    return list(
        Receiver.objects.filter(enabled=True, id__in=ids)
        .only("id", "name", "kind")
        .order_by("name")
    )


def notification_thread_root_id(
    *, receiver_id: int | None, alert_group_id: int, before_id: int,
    contact_method_id: int | None = None,
) -> int | None:
    """The receiver's first delivered firing message about the group, older than `before_id`.

    The mail that opened the group's thread: later mails reply to it. After a
    failover it is the fallback's copy, as that was the mail really sent.
    A person's page threads with the earlier pages to the same contact
    method, and the receiver's own messages never with a person's page.
    """
    if receiver_id is None:
        return None
    if contact_method_id is not None:
        mine = {"contact_method_id": contact_method_id}
    else:
        mine = {"page__isnull": True, "recipient_address": ""}
    return (
        Notification.objects.filter(
            **mine,
            receiver_id=receiver_id,
            alert_group_id=alert_group_id,
            state=NotificationState.DELIVERED,
            status="firing",
            is_digest=False,
            id__lt=before_id,
        )
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class ThreadRoot:
    notification_id: int
    vendor_ref: dict


def notification_thread_root(
    *, receiver_id: int | None, alert_group_id: int, incident: int, before_id: int,
    contact_method_id: int | None = None,
) -> ThreadRoot | None:
    """The message that opened this incident's thread for the receiver, as the vendor named it.

    The first delivered notification of the receiver about this incident of
    the group whose vendor reference was recorded (older than `before_id`):
    a chat channel edits it and replies in its thread. A person's page
    threads with the earlier pages to the same contact method only. A
    notification written before incidents were recorded counts for none.
    """
    if receiver_id is None:
        return None
    if contact_method_id is not None:
        mine = {"contact_method_id": contact_method_id}
    else:
        mine = {"page__isnull": True, "recipient_address": ""}
    row = (
        Notification.objects.filter(
            **mine,
            receiver_id=receiver_id,
            alert_group_id=alert_group_id,
            incident=incident,
            state=NotificationState.DELIVERED,
            vendor_ref__isnull=False,
            is_digest=False,
            id__lt=before_id,
        )
        .order_by("id")
        .values_list("id", "vendor_ref")
        .first()
    )
    return ThreadRoot(notification_id=row[0], vendor_ref=row[1]) if row else None


def alert_states_notified(
    *, alert_group_id: int, starts_at: dict[str, datetime]
) -> dict[str, set[str]]:
    """Fingerprint -> the statuses the group's notifications carried it with, at that startsAt.

    Read in Python: the alerts are stored as `json` text, never queried
    inside but here, for the few alerts that moved between groups.
    """
    if not starts_at:
        return {}
    rows = Notification.objects.filter(alert_group_id=alert_group_id).values_list(
        "alerts", flat=True
    )
    told: dict[str, set[str]] = {}
    for alerts in rows:
        for alert in alerts:
            fingerprint = alert.get("fingerprint")
            wanted = starts_at.get(fingerprint)
            if wanted is None or not isinstance(alert.get("startsAt"), str):
                continue
            try:
                carried = datetime.fromisoformat(alert["startsAt"])
            except ValueError:
                continue
            if carried == wanted:
                told.setdefault(fingerprint, set()).add(alert.get("status", ""))
    return told


def notification_list_for_group(*, alert_group_id: int) -> list[Notification]:
    return list(
        Notification.objects.filter(alert_group_id=alert_group_id)
        .select_related("page")
        .prefetch_related("delivery_attempts")
        .order_by("created_at", "id")
    )


def notification_recipient(notification: Notification) -> str:
    """'Alice at alice@example.com' for a page's notification (its page loaded); '' otherwise.

    The name and address are the ones recorded when the page was sent.
    """
    if notification.page_id is None and not notification.recipient_address:
        return ""
    name = notification.page.person_name if notification.page_id else "a deleted page"
    address = notification.recipient_address or "(no address)"
    return f"{name} at {address}"


def message_template_sources(*, channel: str) -> dict[tuple[str, str], str]:
    """The tenant's template overrides for a channel: (language, part) -> source."""
    return {
        (language, part): source
        for language, part, source in MessageTemplate.objects.filter(channel=channel).values_list(
            "language", "part", "source"
        )
    }


@dataclass(frozen=True)
class ReceiverHealth:
    receiver_id: int
    name: str
    kind: str
    state: str  # closed, open, half_open
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str
    failures_last_hour: int


def receiver_health_list(*, now: datetime | None = None) -> list[ReceiverHealth]:
    """Each receiver's circuit and recent failures, for the admin's health view."""
    now = now or timezone.now()
    circuits = {circuit.receiver_id: circuit for circuit in ReceiverCircuit.objects.all()}
    failures = dict(
        DeliveryAttempt.objects.filter(
            started_at__gte=now - timedelta(hours=1),
            outcome__in=[AttemptOutcome.RETRY, AttemptOutcome.FAILED],
        )
        .values_list("notification__receiver_id")
        .annotate(count=Count("id"))
        .values_list("notification__receiver_id", "count")
    )
    health = []
    for receiver in Receiver.objects.only("id", "name", "kind").order_by("name"):
        circuit = circuits.get(receiver.id) or ReceiverCircuit(receiver_id=receiver.id)
        health.append(
            ReceiverHealth(
                receiver_id=receiver.id,
                name=receiver.name,
                kind=receiver.kind,
                state=circuit.state or CircuitState.CLOSED,
                consecutive_failures=circuit.consecutive_failures,
                last_success_at=circuit.last_success_at,
                last_failure_at=circuit.last_failure_at,
                last_error=circuit.last_error,
                failures_last_hour=failures.get(receiver.id, 0),
            )
        )
    return health


@dataclass
class _DeliveryConfig:
    version: int
    receivers: dict[int, Receiver]
    templates: dict[str, dict[tuple[str, str], str]]


# Per process: (schema, tenant id) -> what delivery read under one configuration
# version. Any write to receivers or templates bumps the version (a trigger,
# alerting migration 0006), so a cached receiver is never older than a commit
# the worker has seen. Entries are shared by threads and only ever read.
_delivery_configs: dict[tuple[str, object], _DeliveryConfig] = {}


def _delivery_config(version: int | None) -> _DeliveryConfig | None:
    if version is None:
        return None
    key = (connection.schema_name, getattr(connection.tenant, "pk", None))
    config = _delivery_configs.get(key)
    if config is None or config.version != version:
        config = _delivery_configs[key] = _DeliveryConfig(version, {}, {})
    return config


def receivers_for_delivery(*, ids: set[int], version: int | None) -> dict[int, Receiver]:
    """Receivers with their decrypted secrets, cached while the configuration version holds."""
    config = _delivery_config(version)
    if config is None:
        return Receiver.objects.in_bulk(ids)
    missing = ids - config.receivers.keys()
    if missing:
        config.receivers.update(Receiver.objects.in_bulk(missing))
    return {id_: config.receivers[id_] for id_ in ids if id_ in config.receivers}


def message_templates_for_delivery(
    *, channel: str, version: int | None
) -> dict[tuple[str, str], str]:
    """The channel's template overrides, cached like `receivers_for_delivery`."""
    config = _delivery_config(version)
    if config is None:
        return message_template_sources(channel=channel)
    if channel not in config.templates:
        config.templates[channel] = message_template_sources(channel=channel)
    return config.templates[channel]
