"""Delivering a backlog in one batch: the same outcomes as one by one, for less work.

What needs a decision (grouping window, rate limit, open circuit) is still
decided as it is for a single notification; and a change to a receiver or a
template reaches the very next batch, though receivers are cached per process.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from werkzeug import Response

from receivers.delivery import notifications_deliver
from receivers.delivery.threads import SLOW_SECONDS
from receivers.models import CircuitState, Notification, NotificationState, ReceiverCircuit
from receivers.services import message_template_save, receiver_secret_set
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert


def backlog(receiver, count: int) -> list[Notification]:
    return [
        NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(1, count + 1)
    ]


def states(notifications: list[Notification]) -> list[str]:
    return [Notification.objects.get(id=n.id).state for n in notifications]


def test_a_backlog_is_delivered_and_every_attempt_recorded(httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok", status=202)
    notifications = backlog(hook(), 12)

    results = notifications_deliver(notification_ids=[n.id for n in notifications])

    assert {result.outcome for result in results.values()} == {"delivered"}
    assert states(notifications) == ["delivered"] * 12
    assert len(httpserver.log) == 12
    sent = sorted(
        request.get_json()["alerts"][0]["labels"]["instance"] for request, _ in httpserver.log
    )
    assert sent == sorted(f"web-{n}:9100" for n in range(1, 13))
    for notification in notifications:
        notification.refresh_from_db()
        attempt = notification.delivery_attempts.get()
        assert (notification.attempts, notification.last_http_status) == (1, 202)
        assert (attempt.number, attempt.outcome, attempt.http_status) == (1, "delivered", 202)
        assert notification.delivered_at is not None


def test_a_batch_costs_a_fixed_number_of_statements_whatever_its_size(httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 1)])  # warm caches

    counts = []
    for size in (2, 20):
        ids = [n.id for n in backlog(receiver, size)]
        with CaptureQueriesContext(connection) as queries:
            notifications_deliver(notification_ids=ids)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert states(Notification.objects.all()) == ["delivered"] * 23


def test_a_delivered_notification_in_a_redelivered_batch_is_not_sent_again(httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    ids = [n.id for n in backlog(hook(), 3)]

    notifications_deliver(notification_ids=ids)
    again = notifications_deliver(notification_ids=ids)

    assert {result.outcome for result in again.values()} == {None}
    assert len(httpserver.log) == 3


def test_failures_in_a_batch_are_retried_or_failed_each_on_its_own(httpserver, hook):
    httpserver.expect_request("/busy").respond_with_data("busy", status=503)
    httpserver.expect_request("/hook").respond_with_response(Response("bad token", status=401))
    busy = NotificationFactory(
        receiver=ReceiverFactory(secrets={"url": httpserver.url_for("/busy")})
    )
    refused = NotificationFactory(receiver=hook())

    results = notifications_deliver(notification_ids=[busy.id, refused.id])

    assert results[busy.id].outcome == "retry" and results[busy.id].retry_in is not None
    assert (results[refused.id].outcome, results[refused.id].retry_in) == ("failed", None)
    busy.refresh_from_db()
    refused.refresh_from_db()
    assert (busy.state, busy.last_http_status) == ("pending", 503)
    assert (refused.state, refused.last_error) == ("failed", "HTTP 401: bad token")


def test_a_new_url_reaches_the_next_batch(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("old")
    httpserver.expect_request("/moved").respond_with_data("new")
    receiver = hook()
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 2)])

    receiver_secret_set(receiver=receiver, name="url", value=httpserver.url_for("/moved"))
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 2)])

    paths = [request.path for request, _ in httpserver.log]
    assert paths == ["/hook", "/hook", "/moved", "/moved"]


def test_a_saved_template_reaches_the_next_batch(alpha, httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")
    receiver = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for("/slack")})
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 1)])

    message_template_save(
        channel="slack", language="en", part="title", source="Paged: {{ status | upper }}"
    )
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 1)])

    before, after = (request.get_json()["text"] for request, _ in httpserver.log)
    assert not before.startswith("Paged:")
    assert after.startswith("Paged: FIRING")


def test_a_batch_over_the_rate_limit_is_folded_into_a_digest(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notifications = backlog(hook(rate_limit="3/minute"), 5)

    results = notifications_deliver(notification_ids=[n.id for n in notifications])

    outcomes = [results[n.id].outcome for n in notifications]
    assert outcomes == ["delivered"] * 3 + ["folded"] * 2
    digest = Notification.objects.get(is_digest=True)
    assert (digest.state, digest.folded_count) == ("pending", 2)
    assert len(httpserver.log) == 3


def test_a_notification_held_by_the_grouping_window_waits_while_the_rest_go(
    alpha, httpserver, hook, settings
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 60
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    group = AlertGroupFactory()
    first = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=1)])
    notifications_deliver(notification_ids=[first.id])
    later = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=2)])
    others = backlog(receiver, 3)

    results = notifications_deliver(notification_ids=[later.id, *(n.id for n in others)])

    assert results[later.id].outcome is None and 0 < results[later.id].retry_in <= 60
    assert states([later, *others]) == ["pending", "delivered", "delivered", "delivered"]
    assert len(httpserver.log) == 4


def test_a_group_told_long_ago_is_sent_in_the_batch_not_held_or_decided_alone(
    alpha, httpserver, hook, settings
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 5
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    notifications_deliver(notification_ids=[n.id for n in backlog(receiver, 1)])  # warm caches
    fresh = NotificationFactory(receiver=receiver, alerts=[alert(n=1)])
    with CaptureQueriesContext(connection) as fresh_queries:
        notifications_deliver(notification_ids=[fresh.id])
    group = AlertGroupFactory()
    NotificationFactory(  # the group's last message went out an hour ago
        receiver=receiver, alert_group=group, state=NotificationState.DELIVERED,
        delivered_at=timezone.now() - timedelta(hours=1),
    )
    again = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=2)])

    with CaptureQueriesContext(connection) as queries:
        results = notifications_deliver(notification_ids=[again.id])

    assert results[again.id].outcome == "delivered"
    assert len(queries) == len(fresh_queries)  # the batch's statements, no lock of its own


def test_an_open_circuit_keeps_the_batch_away_from_the_receiver(alpha, httpserver, hook):
    receiver = hook()
    ReceiverCircuit.objects.create(
        receiver=receiver, state=CircuitState.OPEN, opened_at=timezone.now()
    )
    notifications = backlog(receiver, 2)

    results = notifications_deliver(notification_ids=[n.id for n in notifications])

    assert {result.outcome for result in results.values()} == {None}
    assert all(result.retry_in > 0 for result in results.values())
    assert states(notifications) == [NotificationState.PENDING] * 2
    assert httpserver.log == []


@pytest.fixture
def threaded_server():
    from pytest_httpserver import HTTPServer

    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_slow_receiver_holds_up_a_batch_by_one_send_only(alpha, threaded_server):
    """After one slow answer the rest of the batch is sent side by side.

    The server answers the first request slowly, then lets the next four
    through only once all four are waiting at once: sent one after the
    other, they would be refused.
    """
    together = threading.Barrier(4, timeout=5)
    seen = []

    def answer(request):
        seen.append(request)
        if len(seen) == 1:
            time.sleep(SLOW_SECONDS * 2)
            return Response("ok")
        try:
            together.wait()
        except threading.BrokenBarrierError:
            return Response("sent one by one", status=503)
        return Response("ok")

    threaded_server.expect_request("/slow").respond_with_handler(answer)
    receiver = ReceiverFactory(secrets={"url": threaded_server.url_for("/slow")})
    notifications = backlog(receiver, 5)

    results = notifications_deliver(notification_ids=[n.id for n in notifications])

    assert [results[n.id].outcome for n in notifications] == ["delivered"] * 5
