"""Passing a person's change of a group on to the channels that keep a state of it.

PagerDuty and Opsgenie keep their own incident (`supports_acknowledge`):
they hear of an acknowledgement. Chat channels that edit the message they
sent (`updates_in_place`: Slack's app, Telegram's bot) hear of every change
a person makes, acknowledged and unacknowledged here, resolved through the
resolve notification every told receiver gets anyway, so they can show the
new state and the buttons that still make sense.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from alerting.models import AlertGroup, AlertStatus
from receivers.delivery.outbox import notification_bulk_create, notifications_enqueue
from receivers.selectors import receivers_notified_of
from receivers.transports import transport_class

ACKNOWLEDGED = "acknowledged"
UNACKNOWLEDGED = "unacknowledged"


def group_update_notify(*, group: AlertGroup, update: str, alerts: list[dict]) -> list[int]:
    """Notifications of the update for the receivers that take it; enqueued on commit.

    Call inside the transaction that made the change. `alerts` are the
    group's firing alerts as the update carries them.
    """
    receivers = []
    for receiver in receivers_notified_of(alert_group_id=group.id):
        kind = transport_class(receiver.kind)
        if kind.updates_in_place or (update == ACKNOWLEDGED and kind.supports_acknowledge):
            receivers.append(receiver)
    if not receivers:
        return []
    ids = notification_bulk_create(
        alert_group=group, receivers=receivers, status=AlertStatus.FIRING, alerts=alerts,
        acknowledgement=True, group_update=update,
    )
    transaction.on_commit(partial(notifications_enqueue, notification_ids=ids))
    return ids
