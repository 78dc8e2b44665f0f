"""Delivering one notification: each attempt recorded, retries told apart from failures."""

from __future__ import annotations

import pytest
from werkzeug import Response

from receivers.delivery import notification_deliver, notification_sweep
from receivers.models import AttemptOutcome, Notification, NotificationState
from tests.factories import ReceiverFactory, WebhookPayloadFactory
from tests.ingest import post, public_client


@pytest.fixture
def notify(alpha, client_post_ingest):
    """Ingest one firing alert for a receiver at `url`; return its notification."""

    def make(url: str, **receiver_fields) -> Notification:
        ReceiverFactory(secrets={"url": url}, **receiver_fields)
        client_post_ingest()
        return Notification.objects.get()

    return make


@pytest.fixture
def client_post_ingest(alpha, ingest_key):
    key = ingest_key(alpha)
    return lambda: post(public_client(), WebhookPayloadFactory(), key)


def test_a_delivered_notification_records_code_and_latency(httpserver, notify):
    httpserver.expect_request("/hook").respond_with_data("ok", status=202)
    notification = notify(httpserver.url_for("/hook"))

    result = notification_deliver(notification_id=notification.id)

    notification.refresh_from_db()
    assert result.outcome == AttemptOutcome.DELIVERED
    assert notification.state == NotificationState.DELIVERED
    assert notification.delivered_at is not None
    assert (notification.attempts, notification.last_http_status) == (1, 202)
    attempt = notification.delivery_attempts.get()
    assert (attempt.outcome, attempt.http_status, attempt.error) == ("delivered", 202, "")
    assert attempt.latency_ms >= 0


def test_a_delivered_notification_is_not_sent_again(httpserver, notify):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = notify(httpserver.url_for("/hook"))

    notification_deliver(notification_id=notification.id)
    again = notification_deliver(notification_id=notification.id)

    assert again.outcome is None
    assert len(httpserver.log) == 1


def test_a_server_error_is_retried_with_backoff_then_delivered(httpserver, notify):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    notification = notify(httpserver.url_for("/hook"))

    first = notification_deliver(notification_id=notification.id)
    notification.refresh_from_db()
    assert first.outcome == AttemptOutcome.RETRY
    assert first.retry_in is not None and first.retry_in >= 0
    assert notification.state == NotificationState.PENDING
    assert notification.last_error.startswith("HTTP 503")

    second = notification_deliver(notification_id=notification.id)
    assert second.outcome == AttemptOutcome.DELIVERED
    outcomes = list(notification.delivery_attempts.values_list("number", "outcome", "http_status"))
    assert outcomes == [(1, "retry", 503), (2, "delivered", 200)]


def test_a_client_error_fails_at_once_with_the_vendors_answer(httpserver, notify):
    httpserver.expect_request("/hook").respond_with_response(
        Response('{"error": "invalid token"}', status=401)
    )
    notification = notify(httpserver.url_for("/hook"))

    result = notification_deliver(notification_id=notification.id)

    notification.refresh_from_db()
    assert result.outcome == AttemptOutcome.FAILED
    assert notification.state == NotificationState.FAILED
    assert "invalid token" in notification.last_error


def test_retries_stop_at_the_receivers_maximum(httpserver, notify):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    notification = notify(httpserver.url_for("/hook"), max_attempts=2)

    outcomes = [notification_deliver(notification_id=notification.id).outcome for _ in range(3)]

    assert outcomes == [AttemptOutcome.RETRY, AttemptOutcome.FAILED, None]
    assert len(httpserver.log) == 2


def test_a_private_target_is_refused_for_a_tenant_that_does_not_allow_it(notify, alpha):
    alpha.allow_private_targets = False
    notification = notify("http://169.254.169.254/latest/meta-data/")

    notification_deliver(notification_id=notification.id)

    notification.refresh_from_db()
    assert notification.state == NotificationState.FAILED
    assert "private" in notification.last_error


def test_the_sweep_re_enqueues_only_overdue_work(httpserver, notify, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.HERALD_SWEEP_PENDING_AFTER_SECONDS = 60
    notification = notify(httpserver.url_for("/hook"))
    assert notification_sweep() == []  # just queued: its task is still on its way

    Notification.objects.filter(id=notification.id).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert notification_sweep() == [notification.id]
    assert notification_sweep() == []  # not twice while the new task is queued
