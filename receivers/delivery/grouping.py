"""The grouping window: later messages of a group to a receiver wait, then go as one."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alerting.audit.outcomes import audit_outcomes_stage, outcome_of
from receivers.delivery.digest import alerts_merge
from receivers.delivery.results import notification_count
from receivers.models import Notification, NotificationState


def group_window_wait(notification: Notification, now) -> float:
    """Seconds to hold a notification so later alerts of its group join it; 0: send now.

    The first message of a group goes out at once; what follows for the same
    receiver and group within the window waits for the window to pass and
    then goes out as one message. Waiting siblings are merged into this one.
    People's pages through the same receiver are no siblings: each is a
    message of its own, to its person. With no window, nothing is merged and
    nothing waits but for order (`_earlier_sibling_wait`).
    """
    window = settings.HERALD_GROUP_WINDOW_SECONDS
    if window <= 0:
        return _earlier_sibling_wait(notification, now)
    # One query on the hot path: usually a group has no other notification.
    siblings = list(
        Notification.objects.filter(
            receiver_id=notification.receiver_id, alert_group_id=notification.alert_group_id,
            page__isnull=True, recipient_address="",
        )
        .exclude(id=notification.id)
        .values_list("state", "delivered_at", "is_digest", "acknowledgement")
    )
    if not siblings:
        return 0.0
    if any(state == NotificationState.SENDING for state, *_ in siblings):
        return window
    sent = [
        delivered_at
        for state, delivered_at, is_digest, _ in siblings
        if state == NotificationState.DELIVERED and not is_digest and delivered_at
    ]
    if sent and (wait := (max(sent) + timedelta(seconds=window) - now).total_seconds()) > 0:
        return wait
    if any(
        state == NotificationState.PENDING and not is_digest and not acknowledgement
        for state, _, is_digest, acknowledgement in siblings
    ):
        group_merge(notification)
    return 0.0


# With no window, how long a notification waits, at least, for an earlier
# one of its group to the same receiver: a send in flight is usually over
# within a second; one waiting for a retry is waited for until it is due.
ORDER_WAIT_SECONDS = 1.0
EARLIER_MESSAGE_REASON = "waiting for an earlier message of its group"


def _earlier_sibling_wait(notification: Notification, now) -> float:
    """Seconds until the group's earlier messages to the receiver are out; 0: none owed.

    Without it two workers could send a firing and its resolve side by side,
    and a receiver that opens incidents (PagerDuty, Opsgenie) could see the
    resolve first and then open an incident that nothing resolves.
    """
    created = notification.created_at
    earlier = (
        Notification.objects.filter(
            receiver_id=notification.receiver_id, alert_group_id=notification.alert_group_id,
            page__isnull=True, recipient_address="",
        )
        .filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=notification.id))
        .filter(
            Q(state=NotificationState.SENDING)
            | Q(state=NotificationState.PENDING, is_digest=False, acknowledgement=False)
        )
        .values_list("state", "next_attempt_at")
    )
    waits = [
        ORDER_WAIT_SECONDS if state == NotificationState.SENDING
        else max(0.0, (due - now).total_seconds()) + ORDER_WAIT_SECONDS
        for state, due in earlier
    ]
    return max(waits, default=0.0)


def group_merge(notification: Notification) -> None:
    """Carry the alerts of the group's other waiting notifications in this one."""
    others = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(
            receiver_id=notification.receiver_id,
            alert_group_id=notification.alert_group_id,
            state=NotificationState.PENDING,
            acknowledgement=False,
            is_digest=False,
            page__isnull=True,
            recipient_address="",
        )
        .exclude(id=notification.id)
        .order_by("created_at", "id")
    )
    if not others:
        return
    # In the order they were written: an alert's latest state wins, so a
    # resolve claimed while its firing waits for a retry is not undone by it.
    waiting = sorted([notification, *others], key=lambda n: (n.created_at, n.id))
    notification.alerts = alerts_merge(n.alerts for n in waiting)
    firing = any(alert.get("status") == "firing" for alert in notification.alerts)
    notification.status = "firing" if firing else "resolved"
    notification.folded_count += sum(1 + o.folded_count for o in others)
    notification.save(update_fields=["alerts", "status", "folded_count", "updated_at"])
    Notification.objects.filter(id__in=[o.id for o in others]).update(
        state=NotificationState.MERGED, folded_into=notification, updated_at=timezone.now()
    )
    for other in others:
        notification_count(other, NotificationState.MERGED)
    audit_outcomes_stage(
        outcomes=[
            outcome_of(other, state=NotificationState.MERGED, merged_into_id=notification.id)
            for other in others
        ]
    )
