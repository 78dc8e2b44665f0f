"""Sends an operator asks for in the admin: a test notification, a retry now.

Both go through the ordinary delivery service, so what the admin shows is
exactly what a real alert would get.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from alerting.audit.models import AuditSource
from alerting.audit.outcomes import audit_outcomes_seal
from alerting.audit.services import audit_record
from alerting.models import AlertGroup, AlertStatus
from receivers.delivery.deliver import notification_deliver
from receivers.delivery.outbox import notification_bulk_create, notifications_enqueue
from receivers.delivery.results import DeliveryResult
from receivers.models import Notification, NotificationState, Receiver
from receivers.template_samples import sample_message

TEST_GROUP_KEY = "herald:test-notification"


def _test_group() -> AlertGroup:
    message = sample_message(status="firing")
    now = timezone.now()
    group, _ = AlertGroup.objects.get_or_create(
        group_key=TEST_GROUP_KEY,
        defaults={
            "receiver": "herald-test",
            "status": AlertStatus.FIRING,
            "group_labels": {"alertname": "HeraldTestNotification"},
            "common_labels": {"alertname": "HeraldTestNotification", "severity": "info"},
            "common_annotations": {"summary": "A test notification sent from Herald's admin."},
            "external_url": message.external_url,
            "first_seen_at": now,
            "last_seen_at": now,
            "last_payload": {},
        },
    )
    return group


def receiver_test_send(
    *, receiver: Receiver, actor: str, ip: str = ""
) -> tuple[Notification, DeliveryResult]:
    """Send a sample alert to the receiver now, in this request, and record it.

    The notification is kept in the history like any other (under the
    "herald:test-notification" group), so the result can be looked up later.
    """
    alerts = [
        {**alert, "labels": {**alert["labels"], "alertname": "HeraldTestNotification",
                             "severity": "info"}}
        for alert in sample_message(status="firing").alerts[:1]
    ]
    with transaction.atomic():
        (notification_id,) = notification_bulk_create(
            alert_group=_test_group(), receivers=[receiver], status=AlertStatus.FIRING,
            alerts=alerts,
        )
    result = notification_deliver(notification_id=notification_id)
    notification = Notification.objects.get(id=notification_id)
    audit_record(
        actor=actor, source=AuditSource.ADMIN, action="test_send", ip=ip,
        obj_type="receivers.receiver", obj_id=receiver.pk, obj_repr=str(receiver),
        after={"notification_id": notification.pk, "state": notification.state,
               "http_status": notification.last_http_status, "error": notification.last_error},
    )
    # A person waits for this one: its outcome goes into the chain now, not at the next seal.
    audit_outcomes_seal()
    return notification, result


class RetryError(Exception):
    """Only notifications that failed for good can be retried by hand."""


def notification_retry(*, notification_id: int, actor: str, ip: str = "") -> Notification:
    """Owe the failed notification's receiver the same message again, now.

    The failed row stays as it was (history); a new pending notification
    carries the same alerts and is handed to the workers on commit.
    """
    with transaction.atomic():
        failed = Notification.objects.select_for_update().get(id=notification_id)
        if failed.state != NotificationState.FAILED:
            raise RetryError(f"notification {failed.pk} is {failed.state}, not failed")
        if failed.receiver is None:
            raise RetryError(f"the receiver {failed.receiver_name!r} was deleted")
        (new_id,) = notification_bulk_create(
            alert_group=failed.alert_group, receivers=[failed.receiver], status=failed.status,
            alerts=failed.alerts, acknowledgement=failed.acknowledgement,
            group_update=failed.group_update,
        )
        audit_record(
            actor=actor, source=AuditSource.ADMIN, action="retry", ip=ip,
            obj_type="receivers.notification", obj_id=failed.pk, obj_repr=str(failed),
            after={"new_notification_id": new_id},
        )
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=[new_id]))
    return Notification.objects.get(id=new_id)
