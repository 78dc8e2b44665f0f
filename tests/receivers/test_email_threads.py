"""Email threads: the resolved mail replies to the firing mail the receiver really got."""

from __future__ import annotations

import pytest

from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


@pytest.fixture
def send(alpha, ingest_key, settings):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # this story is about threads, not grouping
    key = ingest_key(alpha)

    def send(**fields):
        payload = WebhookPayloadFactory(**fields)
        assert post(public_client(), payload, key).status_code == 200
        for _ in range(3):  # failover copies are pending once their original failed
            for notification in Notification.objects.filter(state="pending").order_by("id"):
                notification_deliver(notification_id=notification.id)
        return payload

    return send


def mail_receiver(mailbox, **fields):
    config = {"host": "127.0.0.1", "port": mailbox.port, "security": "none",
              "from_address": "herald@alerts.example.com", "to": ["sre@example.com"]}
    return ReceiverFactory(kind="email", config=config, secrets={}, **fields)


def test_the_resolved_mail_replies_to_the_firing_mail(send, smtp_plain):
    mail_receiver(smtp_plain)
    firing = WebhookAlertFactory()
    payload = send(alerts=[firing])
    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])

    first, second = (envelope.message for envelope in smtp_plain.received)
    assert first["Message-ID"].endswith("@alerts.example.com>")
    assert first["In-Reply-To"] is None
    assert second["In-Reply-To"] == second["References"] == first["Message-ID"]
    assert second["Message-ID"] != first["Message-ID"]


def test_after_a_failover_the_resolve_replies_to_the_copy_the_fallback_sent(
    send, smtp_plain, httpserver
):
    httpserver.expect_request("/down").respond_with_data("down", status=500)
    fallback = mail_receiver(smtp_plain, name="mail")
    hook = ReceiverFactory(name="hook", max_attempts=1, fallback=fallback,
                           secrets={"url": httpserver.url_for("/down")})
    RouteFactory(is_default=True, receivers=[hook])  # the mail is told only through the failover
    firing = WebhookAlertFactory()
    payload = send(alerts=[firing])  # the hook fails for good, the mail carries it
    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])

    first, second = (envelope.message for envelope in smtp_plain.received)
    assert second["In-Reply-To"] == first["Message-ID"]
