"""Fair workers: a few threads of a worker deliver one tenant; other tasks hand over to them.

Who runs is pure and tested as such; delivery is tested against a real
local receiver with the tenant's runners at their cap, as its slow sends in
other threads would hold them.
"""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from receivers.delivery import notification_deliver, notifications_deliver
from receivers.delivery.fairness import (
    TenantRunners,
    runner_join,
    runner_leave,
    tenant_runners,
)
from receivers.models import DeliveryAttempt, Notification, NotificationState
from tests.factories import NotificationFactory, ReceiverFactory
from tests.receivers.helpers import alert

# --- Who runs (pure) ---


def test_a_tenant_gets_its_cap_of_runners_and_later_tasks_hand_over():
    runners = TenantRunners()

    joined = [runners.join("alpha", cap=2) for _ in range(3)]

    assert joined[:2] == [0, 0] and joined[2] is None
    assert runners.runners("alpha") == 2


def test_a_busy_tenant_leaves_the_other_tenants_alone():
    runners = TenantRunners()
    for _ in range(4):
        runners.join("alpha", cap=4)

    assert runners.join("alpha", cap=4) is None
    assert runners.join("beta", cap=4) == 0
    assert (runners.runners("alpha"), runners.runners("beta")) == (4, 1)


def test_a_cap_of_zero_means_no_cap():
    runners = TenantRunners()

    assert all(runners.join("alpha", cap=0) is not None for _ in range(100))


def test_a_runner_leaves_when_its_claim_left_nothing_and_nobody_handed_over():
    runners = TenantRunners()
    seen = runners.join("alpha", cap=1)

    assert runners.carry_on("alpha", seen=seen, more_due=False) is None
    assert runners.runners("alpha") == 0
    assert runners.join("alpha", cap=1) is not None  # the next task runs itself


def test_a_runner_claims_again_for_work_handed_over_after_its_claim_began():
    runners = TenantRunners()
    seen = runners.join("alpha", cap=1)
    assert runners.join("alpha", cap=1) is None  # handed over while the runner sent

    again = runners.carry_on("alpha", seen=seen, more_due=False)

    assert again is not None
    assert runners.carry_on("alpha", seen=again, more_due=False) is None  # then it left


def test_a_runner_claims_again_while_its_claim_may_have_left_due_work():
    runners = TenantRunners()
    seen = runners.join("alpha", cap=1)

    assert runners.carry_on("alpha", seen=seen, more_due=True) == seen
    assert runners.runners("alpha") == 1


def test_a_runner_that_leaves_early_says_whether_work_was_handed_over_meanwhile():
    runners = TenantRunners()
    first = runners.join("alpha", cap=1)
    runners.join("alpha", cap=1)

    assert runners.leave("alpha", seen=first) is True
    quiet = runners.join("alpha", cap=1)
    assert runners.leave("alpha", seen=quiet) is False
    assert runners._tenants == {}  # the last runner forgets the tenant


# --- Delivery with the tenant's runners at their cap ---


@pytest.fixture
def alpha_at_cap(alpha, settings):
    """Alpha's runners at their cap here, as its slow sends in other threads hold them."""
    settings.HERALD_TENANT_MAX_CONCURRENT_SENDS = 2
    held = [runner_join(tenant=alpha.schema_name) for _ in range(2)]
    assert None not in held
    yield alpha
    for seen in held:
        runner_leave(tenant=alpha.schema_name, seen=seen)


def test_a_task_of_a_tenant_at_its_cap_hands_over_at_once_and_touches_nothing(
    alpha_at_cap, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook())
    started = time.monotonic()

    results = notifications_deliver(notification_ids=[notification.id], take_due=24)

    assert time.monotonic() - started < 0.1
    assert (results[notification.id].outcome, results[notification.id].retry_in) == (None, None)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.last_error) == (
        NotificationState.PENDING, 0, ""
    )
    assert not DeliveryAttempt.objects.exists()
    assert httpserver.log == []
    assert tenant_runners(tenant=alpha_at_cap.schema_name) == 2


def test_another_tenant_is_not_held_back_by_one_at_its_cap(alpha_at_cap, beta, httpserver):
    httpserver.expect_request("/beta").respond_with_data("ok")
    with tenant_context(beta):
        receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/beta")})
        notification = NotificationFactory(receiver=receiver)

        results = notifications_deliver(notification_ids=[notification.id], take_due=24)

    assert results[notification.id].outcome == "delivered"
    assert len(httpserver.log) == 1


def test_a_persons_retry_is_sent_at_once_whatever_the_workers_are_doing(
    alpha_at_cap, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    notification = NotificationFactory(receiver=hook())

    assert notification_deliver(notification_id=notification.id).outcome == "delivered"
    assert len(httpserver.log) == 1


def test_a_runner_claims_again_until_nothing_of_its_tenant_is_due(
    alpha, httpserver, hook, settings
):
    settings.HERALD_DELIVERY_BATCH_SIZE = 10
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    notifications = [NotificationFactory(receiver=receiver, alerts=[alert(n=n)]) for n in range(35)]

    results = notifications_deliver(notification_ids=[notifications[0].id], take_due=9)

    assert {results[n.id].outcome for n in notifications} == {"delivered"}
    assert len(httpserver.log) == 35  # each once
    assert tenant_runners(tenant=alpha.schema_name) == 0


def test_a_runner_decides_the_due_notifications_it_finds_that_need_a_decision(
    alpha, httpserver, hook
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = hook()
    first = NotificationFactory(receiver=receiver, alerts=[alert(n=1)])
    # A digest is never sent in a batch: its task may have handed it over.
    digest = NotificationFactory(receiver=receiver, is_digest=True, alerts=[alert(n=2)])

    results = notifications_deliver(notification_ids=[first.id], take_due=24)

    assert results[digest.id].outcome == "delivered"
    assert Notification.objects.get(id=digest.id).state == NotificationState.DELIVERED
    assert len(httpserver.log) == 2
