"""An escalation driven by the real worker: ETA tasks and the periodic tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from alerting.services import alert_group_acknowledge
from escalation.models import Escalation
from escalation.tasks import escalation_tick
from receivers.delivery import notifications_enqueue
from receivers.models import Notification, NotificationState
from tests.conftest import wait_for
from tests.factories import (
    EscalationPolicyFactory,
    NotificationFactory,
    ReceiverFactory,
    RouteFactory,
    WebhookPayloadFactory,
)
from tests.ingest import INGEST

pytestmark = pytest.mark.e2e


def paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


def test_levels_reach_their_receivers_until_someone_acknowledges(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    for path in ("/first", "/second", "/third", "/sentinel"):
        httpserver.expect_request(path).respond_with_data("ok")
    with tenant_context(alpha):
        first, second, third = (
            ReceiverFactory(name=name, secrets={"url": httpserver.url_for(f"/{name}")})
            for name in ("first", "second", "third")
        )
        policy = EscalationPolicyFactory(levels=[(0, [first]), (5, [second]), (5, [third])])
        RouteFactory(receivers=[], escalation_policy=policy)

    response = requests.post(
        live_server.url + INGEST, json=WebhookPayloadFactory(),
        headers={"Authorization": f"Bearer {ingest_key(alpha)}"}, timeout=10,
    )
    assert response.status_code == 200
    wait_for(lambda: paths(httpserver) == ["/first"])  # level 1: its ETA task, now

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        escalation_tick.delay()  # as beat would, after a restart lost the ETA task
        wait_for(lambda: paths(httpserver) == ["/first", "/second"])

        with tenant_context(alpha):
            alert_group_acknowledge(alert_group_id=AlertGroup.objects.get().id, by="alice")

        with time_machine.travel(timezone.now() + timedelta(minutes=10)):
            escalation_tick.delay()
            # The solo worker takes tasks in order: once the sentinel arrives,
            # the tick before it has run.
            with tenant_context(alpha):
                sentinel = ReceiverFactory(secrets={"url": httpserver.url_for("/sentinel")})
                notification = NotificationFactory(receiver=sentinel)
                notifications_enqueue(notification_ids=[notification.id])
                wait_for(lambda: Notification.objects.filter(
                    id=notification.id, state=NotificationState.DELIVERED).exists())

    assert paths(httpserver) == ["/first", "/second", "/sentinel"]
    with tenant_context(alpha):
        assert Escalation.objects.get().state == "acknowledged"
    with tenant_context(alpha):
        assert set(Notification.objects.values_list("state", flat=True)) == {
            NotificationState.DELIVERED
        }
