"""Every notification's final outcome reaches the audit trail, from the delivery path itself.

Deliveries run through the real entry point (and, last, a real worker)
against a local HTTP server; the periodic audit task seals what they staged.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.audit.checkpoints import audit_seal_and_checkpoint
from alerting.audit.models import AuditEntry, PendingOutcome
from alerting.audit.selectors import audit_chain_verify
from receivers.delivery import notification_deliver, notifications_enqueue
from receivers.models import Notification
from tests.conftest import wait_for
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert


def _trail(tenant, notification_ids, *, after_id: int = 0) -> dict[int, AuditEntry]:
    """Seal as the periodic task does, then the outcome entries of these notifications.

    `after_id`: only entries newer than it (the trail is append-only, and ids of
    notifications restart when committed tests truncate their tables).
    """
    audit_seal_and_checkpoint(tenants=[tenant])
    with tenant_context(tenant):
        entries = AuditEntry.objects.filter(
            id__gt=after_id,
            object_type="receivers.notification",
            object_id__in=[str(i) for i in notification_ids],
        )
        return {int(entry.object_id): entry for entry in entries}


def test_a_delivered_notification_is_in_the_trail_with_receiver_channel_attempts(
    alpha, httpserver
):
    httpserver.expect_request("/hook").respond_with_data("ok", status=202)
    receiver = ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook")})
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)
    assert PendingOutcome.objects.count() == 1  # staged beside the record, not chained yet

    entry = _trail(alpha, [notification.id])[notification.id]
    assert (entry.action, entry.actor, entry.source) == ("notification_delivered", "system",
                                                         "system")
    assert entry.after["receiver"] == "ops-hook"
    assert (entry.after["channel"], entry.after["attempts"], entry.after["http_status"]) == (
        "webhook", 1, 202)
    assert not PendingOutcome.objects.exists()  # sealed rows are gone
    assert audit_chain_verify().intact


def test_a_notification_that_failed_for_good_says_why(alpha, httpserver):
    httpserver.expect_request("/hook").respond_with_data('{"error": "bad token"}', status=401)
    receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    entry = _trail(alpha, [notification.id])[notification.id]
    assert entry.action == "notification_failed"
    assert entry.after["http_status"] == 401 and "bad token" in entry.after["error"]


def test_a_retry_is_not_an_outcome_yet(alpha, httpserver):
    httpserver.expect_request("/hook").respond_with_data("busy", status=503)
    receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, max_attempts=5)
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    assert _trail(alpha, [notification.id]) == {}


def test_a_failover_names_the_fallback_and_the_copy_has_its_own_outcome(alpha, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/backup").respond_with_data("ok")
    backup = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/backup")})
    primary = ReceiverFactory(name="primary", max_attempts=1, fallback=backup,
                              secrets={"url": httpserver.url_for("/hook")})
    notification = NotificationFactory(receiver=primary)

    notification_deliver(notification_id=notification.id)
    copy = notification.failovers.get()
    notification_deliver(notification_id=copy.id)

    trail = _trail(alpha, [notification.id, copy.id])
    assert trail[notification.id].action == "notification_failed_over"
    assert trail[notification.id].after["fallback"] == "backup"
    assert trail[notification.id].after["fallback_notification_id"] == copy.id
    assert (trail[copy.id].action, trail[copy.id].after["receiver"]) == (
        "notification_delivered", "backup")


def test_folded_and_merged_notifications_are_in_the_trail(alpha, httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("ok")
    limited = ReceiverFactory(name="limited", rate_limit="1/minute",
                              secrets={"url": httpserver.url_for("/hook")})
    sent, folded = (NotificationFactory(receiver=limited, alerts=[alert(n=n)]) for n in (1, 2))
    notification_deliver(notification_id=sent.id)
    notification_deliver(notification_id=folded.id)

    settings.HERALD_GROUP_WINDOW_SECONDS = 60
    grouped = ReceiverFactory(name="grouped", secrets={"url": httpserver.url_for("/hook")})
    group = AlertGroupFactory()
    first = NotificationFactory(receiver=grouped, alert_group=group, alerts=[alert(n=1)])
    notification_deliver(notification_id=first.id)
    second, third = (
        NotificationFactory(receiver=grouped, alert_group=group, alerts=[alert(n=n)])
        for n in (2, 3)
    )
    Notification.objects.filter(id=first.id).update(
        delivered_at=timezone.now() - timedelta(seconds=61)
    )  # the window has passed: the second carries the third
    notification_deliver(notification_id=second.id)

    trail = _trail(alpha, [folded.id, third.id, second.id])
    assert trail[folded.id].action == "notification_folded"
    assert trail[folded.id].after["digest_id"] == Notification.objects.get(is_digest=True).id
    assert trail[third.id].action == "notification_merged"
    assert trail[third.id].after["merged_into_id"] == second.id
    assert trail[second.id].action == "notification_delivered"


def test_with_outcome_auditing_off_nothing_is_staged(alpha, httpserver, settings):
    settings.HERALD_AUDIT_OUTCOMES = False
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(
        receiver=ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    )
    notification_deliver(notification_id=notification.id)
    assert not PendingOutcome.objects.exists()


def test_a_batch_of_deliveries_stages_one_row(alpha, httpserver):
    """One INSERT per delivery batch, whatever its size: delivery takes no audit lock."""
    from receivers.delivery import notifications_deliver

    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    ids = [NotificationFactory(receiver=receiver, alerts=[alert(n=n)]).id for n in range(5)]

    notifications_deliver(notification_ids=ids)

    (row,) = PendingOutcome.objects.all()
    assert sorted(outcome["id"] for outcome in row.outcomes) == sorted(ids)
    assert {e.action for e in _trail(alpha, ids).values()} == {"notification_delivered"}


def test_a_real_worker_delivery_is_sealed_into_the_chain(
    committed_tenants, celery_worker_thread, httpserver
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook").respond_with_data("ok")
    # Outcomes an earlier test's deliveries staged are sealed first: their
    # notification ids may be ours again (committed tests truncate the tables).
    audit_seal_and_checkpoint(tenants=[alpha])
    with tenant_context(alpha):
        audited_before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        receiver = ReceiverFactory(name="worker-hook", secrets={"url": httpserver.url_for("/hook")})
        notification = NotificationFactory(receiver=receiver)
        notifications_enqueue(notification_ids=[notification.id])

    def delivered():
        with tenant_context(alpha):
            return Notification.objects.filter(id=notification.id, state="delivered").exists()

    wait_for(delivered)
    entry = wait_for(lambda: _trail(alpha, [notification.id], after_id=audited_before or 0)
                     .get(notification.id))
    assert (entry.action, entry.after["receiver"]) == ("notification_delivered", "worker-hook")
    with tenant_context(alpha):
        assert audit_chain_verify().intact
