"""Delivery that survives failures, one service call at a time against local servers.

Timeouts, Retry-After, max age, the circuit breaker, failover, rate limits
folded into digests, the grouping window, and what metrics and the health
selector show. The worker-driven versions are in tests/e2e/test_delivery_worker.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from prometheus_client import REGISTRY
from werkzeug import Response

from receivers.delivery import notification_deliver
from receivers.models import CircuitState, Notification, NotificationState, ReceiverCircuit
from receivers.selectors import receiver_health_list
from tests.conftest import wait_for
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert


def deliver(notification: Notification):
    result = notification_deliver(notification_id=notification.id)
    notification.refresh_from_db()
    return result


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_timeout_is_retried_then_delivered(alpha, httpserver, hook):
    def slow(request):
        time.sleep(0.5)
        return Response("late")

    httpserver.expect_ordered_request("/hook").respond_with_handler(slow)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook(config={"timeout_seconds": 0.2}))

    first = deliver(notification)
    assert (first.outcome, notification.state) == ("retry", NotificationState.PENDING)
    assert notification.last_error == "the receiver did not answer in time"
    assert notification.last_http_status is None

    wait_for(lambda: httpserver.log)  # the server is single-threaded: let it finish
    assert deliver(notification).outcome == "delivered"
    attempts = list(notification.delivery_attempts.values_list("outcome", "http_status", "error"))
    assert attempts == [
        ("retry", None, "the receiver did not answer in time"),
        ("delivered", 200, ""),
    ]


def test_retry_after_on_429_sets_the_next_attempt_and_is_recorded(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    notification = NotificationFactory(receiver=hook())
    before = timezone.now()

    result = deliver(notification)

    assert result.outcome == "retry" and result.retry_in >= 7
    assert notification.next_attempt_at >= before + timedelta(seconds=7)
    attempt = notification.delivery_attempts.get()
    assert (attempt.http_status, attempt.retry_in_seconds) == (429, result.retry_in)


def test_retries_stop_at_the_receivers_maximum_age(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    notification = NotificationFactory(
        receiver=hook(max_attempts=50, max_age_seconds=60),
        created_at=timezone.now() - timedelta(seconds=61),
    )

    assert deliver(notification).outcome == "failed"  # too old for another try
    assert notification.state == NotificationState.FAILED


def test_the_circuit_opens_after_n_failures_then_half_opens_and_closes(
    alpha, httpserver, hook, settings
):
    settings.HERALD_BREAKER_FAILURE_THRESHOLD = 2
    settings.HERALD_BREAKER_COOLDOWN_SECONDS = 30
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=502)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    receiver = hook(max_attempts=10)
    first, second, third = NotificationFactory.create_batch(3, receiver=receiver)
    labels = {"tenant": alpha.schema_name, "receiver": receiver.name, "channel": "webhook"}

    deliver(first)
    assert ReceiverCircuit.objects.get(receiver=receiver).state == CircuitState.CLOSED
    deliver(second)
    assert ReceiverCircuit.objects.get(receiver=receiver).state == CircuitState.OPEN
    assert sample("alertmanager_receiver_health", **labels) == 0.0

    refused = deliver(third)  # open: the receiver is not called
    assert refused.outcome is None and 29 <= refused.retry_in <= 30
    assert len(httpserver.log) == 2
    assert (third.state, third.attempts, third.last_error) == (
        NotificationState.PENDING, 0, "circuit open: waiting for the cool-down"
    )
    [health] = receiver_health_list()
    assert (health.state, health.failures_last_hour, health.last_success_at) == ("open", 2, None)
    assert health.last_error == "HTTP 502: down"

    ReceiverCircuit.objects.filter(receiver=receiver).update(
        opened_at=timezone.now() - timedelta(seconds=31)
    )  # the cool-down has passed
    assert deliver(third).outcome == "delivered"  # the probe
    circuit = ReceiverCircuit.objects.get(receiver=receiver)
    assert (circuit.state, circuit.consecutive_failures) == (CircuitState.CLOSED, 0)
    assert circuit.last_success_at is not None
    assert sample("alertmanager_receiver_health", **labels) == 1.0
    assert receiver_health_list()[0].state == "closed"


def test_a_half_open_circuit_lets_one_probe_through(alpha, httpserver, hook):
    receiver = hook()
    ReceiverCircuit.objects.create(
        receiver=receiver, state=CircuitState.HALF_OPEN, probe_started_at=timezone.now()
    )
    notification = NotificationFactory(receiver=receiver)

    result = deliver(notification)  # another worker's probe is in flight

    assert result.outcome is None and result.retry_in > 0
    assert httpserver.log == []


def test_while_a_probe_is_in_flight_the_others_wait_for_it_instead_of_failing_over(
    alpha, httpserver, hook
):
    backup = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/backup")})
    receiver = hook(fallback=backup)
    ReceiverCircuit.objects.create(
        receiver=receiver, state=CircuitState.HALF_OPEN, probe_started_at=timezone.now()
    )
    waiting = NotificationFactory(receiver=receiver)

    result = deliver(waiting)  # another worker's probe is in flight

    assert result.outcome is None and 0 < result.retry_in <= 25
    assert waiting.state == NotificationState.PENDING
    assert waiting.last_error == "circuit half-open: waiting for the probe"
    assert not waiting.failovers.exists() and httpserver.log == []


def test_the_probes_success_releases_what_waited_for_it_at_once(
    alpha, httpserver, hook, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    circuit = ReceiverCircuit.objects.create(
        receiver=receiver, state=CircuitState.HALF_OPEN, probe_started_at=timezone.now()
    )
    waiting = NotificationFactory(receiver=receiver)
    deliver(waiting)
    assert waiting.next_attempt_at > timezone.now() + timedelta(seconds=20)  # the probe's lease
    # That probe's worker died: once its lease is over, the next send is the probe.
    circuit.probe_started_at = timezone.now() - timedelta(minutes=5)
    circuit.save()
    probe = NotificationFactory(receiver=receiver)

    with django_capture_on_commit_callbacks() as enqueued:
        assert deliver(probe).outcome == "delivered"

    waiting.refresh_from_db()
    assert waiting.next_attempt_at <= timezone.now()  # due now, not in 25 s
    assert len(enqueued) == 1  # and handed to the workers
    assert deliver(waiting).outcome == "delivered"
    assert len(httpserver.log) == 2


def test_a_permanent_failure_does_not_count_against_the_circuit(alpha, httpserver, hook, settings):
    settings.HERALD_BREAKER_FAILURE_THRESHOLD = 1
    httpserver.expect_request("/hook").respond_with_data("bad token", status=401)
    receiver = hook()

    assert deliver(NotificationFactory(receiver=receiver)).outcome == "failed"
    assert not ReceiverCircuit.objects.filter(receiver=receiver, state="open").exists()


def test_exhausted_retries_fail_over_to_the_fallback_and_say_so(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/backup").respond_with_data("ok")
    backup = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/backup")})
    notification = NotificationFactory(receiver=hook(max_attempts=1, fallback=backup))

    result = deliver(notification)

    assert result.outcome == "failed"  # this attempt failed for good …
    assert notification.state == NotificationState.FAILED_OVER  # … and the fallback has it
    assert "sent through the fallback receiver 'backup'" in notification.last_error
    copy = notification.failovers.get()
    assert (copy.receiver, copy.alerts, copy.state) == (backup, notification.alerts, "pending")
    assert deliver(copy).outcome == "delivered"
    assert [request.path for request, _ in httpserver.log] == ["/hook", "/backup"]


def test_an_open_circuit_fails_over_without_calling_the_receiver(alpha, httpserver, hook):
    httpserver.expect_request("/backup").respond_with_data("ok")
    backup = ReceiverFactory(name="backup", secrets={"url": httpserver.url_for("/backup")})
    receiver = hook(fallback=backup)
    ReceiverCircuit.objects.create(
        receiver=receiver, state=CircuitState.OPEN, opened_at=timezone.now()
    )
    notification = NotificationFactory(receiver=receiver)

    assert deliver(notification).outcome == NotificationState.FAILED_OVER
    assert notification.last_error.startswith("the receiver's circuit is open")
    assert deliver(notification.failovers.get()).outcome == "delivered"
    assert [request.path for request, _ in httpserver.log] == ["/backup"]


def test_fallbacks_that_point_at_each_other_do_not_loop(alpha, httpserver):
    httpserver.expect_request("/down").respond_with_data("down", status=500)
    down = {"url": httpserver.url_for("/down")}
    first = ReceiverFactory(name="first", max_attempts=1, secrets=down)
    second = ReceiverFactory(name="second", max_attempts=1, fallback=first, secrets=down)
    first.fallback = second
    first.save()
    notification = NotificationFactory(receiver=first)

    deliver(notification)
    copy = notification.failovers.get()
    deliver(copy)

    assert copy.state == NotificationState.FAILED  # not back to `first`
    assert Notification.objects.count() == 2


def test_over_the_rate_limit_notifications_are_folded_into_one_digest(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook(rate_limit="2/minute")
    notifications = [
        NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(1, 6)
    ]
    folded_before = sample(
        "alertmanager_notifications_total",
        tenant=alpha.schema_name, receiver=receiver.name, channel="webhook", status="folded",
    )

    outcomes = [deliver(notification).outcome for notification in notifications]

    assert outcomes == ["delivered", "delivered", "folded", "folded", "folded"]
    digest = Notification.objects.get(is_digest=True)
    assert (digest.state, digest.folded_count, len(digest.alerts)) == ("pending", 3, 3)
    assert {n.folded_into_id for n in notifications[2:]} == {digest.id}
    assert sample(
        "alertmanager_notifications_total",
        tenant=alpha.schema_name, receiver=receiver.name, channel="webhook", status="folded",
    ) == folded_before + 3

    waiting = deliver(digest)  # still over the limit: the digest waits its turn
    assert waiting.outcome is None and waiting.retry_in > 0
    from receivers.delivery.limits import rate_limits_reset, receiver_rate_key

    rate_limits_reset(
        tenant_key=alpha.schema_name,
        receiver_key=receiver_rate_key(receiver),
        receiver_rate="2/minute",
    )  # the window has passed
    assert deliver(digest).outcome == "delivered"
    body = httpserver.log[-1][0].get_json()
    assert body["commonAnnotations"]["summary"].startswith(
        "3 more alerts in the last minute: HighLatency (web-3:9100), "
    )
    assert [a["labels"]["instance"] for a in body["alerts"]] == [
        "web-3:9100", "web-4:9100", "web-5:9100"
    ]


def test_alerts_of_one_group_within_the_window_go_out_as_one_message(
    alpha, httpserver, hook, settings
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 60
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    group = AlertGroupFactory()
    first = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=1)])
    assert deliver(first).outcome == "delivered"  # the first message is not held back
    second = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=2)])
    third = NotificationFactory(receiver=receiver, alert_group=group, alerts=[alert(n=3)])

    held = deliver(second)
    assert held.outcome is None and 0 < held.retry_in <= 60
    assert len(httpserver.log) == 1

    Notification.objects.filter(id=first.id).update(
        delivered_at=timezone.now() - timedelta(seconds=61)
    )  # the window has passed
    assert deliver(second).outcome == "delivered"
    assert deliver(third).outcome is None

    third.refresh_from_db()
    assert (third.state, third.folded_into_id, second.folded_count) == ("merged", second.id, 1)
    assert len(httpserver.log) == 2
    body = httpserver.log[-1][0].get_json()
    assert [a["labels"]["instance"] for a in body["alerts"]] == ["web-2:9100", "web-3:9100"]


def test_outcomes_are_counted_by_bounded_labels(alpha, httpserver, hook):
    httpserver.expect_request("/hook").respond_with_data("nope", status=403)
    receiver = hook()
    labels = {"tenant": alpha.schema_name, "receiver": receiver.name, "channel": "webhook"}
    before = {
        "failed": sample("alertmanager_notifications_total", **labels, status="failed"),
        "errors": sample(
            "alertmanager_notification_errors_total", **labels, reason="client_error"
        ),
        "requests": sample(
            "alertmanager_integration_requests_total", channel="webhook", code="403"
        ),
        "sends": sample("alertmanager_notification_duration_seconds_count", channel="webhook"),
    }

    deliver(NotificationFactory(receiver=receiver))

    assert sample("alertmanager_notifications_total", **labels, status="failed") == (
        before["failed"] + 1
    )
    assert sample(
        "alertmanager_notification_errors_total", **labels, reason="client_error"
    ) == before["errors"] + 1
    assert sample(
        "alertmanager_integration_requests_total", channel="webhook", code="403"
    ) == before["requests"] + 1
    assert sample(
        "alertmanager_notification_duration_seconds_count", channel="webhook"
    ) == before["sends"] + 1
