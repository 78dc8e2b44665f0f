"""Alertmanager's traffic as it really comes: concurrent retries, a broker outage."""

from __future__ import annotations

import logging
import threading

import psycopg
import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from receivers.delivery.relay import delivery_relay_start, delivery_relay_stop
from receivers.delivery.wake import WAKE_CHANNEL
from receivers.models import Notification, NotificationState
from receivers.tasks import notification_sweep_all_tenants
from tenants.models_due import DueKind, TenantDueWork
from tests.conftest import broker, wait_for
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST, post, public_client

pytestmark = pytest.mark.e2e


def post_together(url: str, key: str, payloads: list[dict]) -> list[int]:
    """Post every payload at the same moment, one thread each."""
    start = threading.Barrier(len(payloads))
    codes: list[int] = []

    def send(payload):
        session = requests.Session()
        start.wait()
        response = session.post(
            url, json=payload, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=send, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def receiver_at(httpserver, tenant) -> None:
    """The tenant's one receiver: the local server's /hook, answering at once."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    with tenant_context(tenant):
        ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})


def post_one_alert(live_server, key: str) -> requests.Response:
    return requests.post(
        live_server.url + INGEST, json=WebhookPayloadFactory(),
        headers={"Authorization": f"Bearer {key}"}, timeout=30,
    )


def wait_delivered(tenant) -> None:
    with tenant_context(tenant):
        wait_for(
            lambda: Notification.objects.filter(state=NotificationState.DELIVERED).exists(),
            timeout=30,
        )


def test_simultaneous_posts_of_the_same_group_notify_once(live_server, committed_tenants,
                                                          ingest_key):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory()
    key = ingest_key(alpha)

    for _ in range(5):  # several rounds, to give the race every chance
        payload = WebhookPayloadFactory(alerts=WebhookAlertFactory.build_batch(3))
        codes = post_together(live_server.url + INGEST, key, [payload] * 6)
        assert codes == [200] * 6

    with tenant_context(alpha):
        assert Notification.objects.count() == 5


def test_with_broker_wakes_alerts_accepted_during_a_broker_outage_are_delivered_after_it(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, settings, caplog
):
    # Its own level: a test worker started earlier may have raised the root's.
    caplog.set_level(logging.WARNING)
    settings.HERALD_DELIVERY_WAKE = "broker"  # the wake is a task on commit
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    receiver_at(httpserver, alpha)

    broker.stop()
    try:
        response = post_one_alert(live_server, key)
    finally:
        broker.start()

    assert response.status_code == 200  # stored: the outage only delays delivery
    assert "left for the sweep" in caplog.text
    with tenant_context(alpha):
        assert Notification.objects.get().state == NotificationState.PENDING

    settings.HERALD_SWEEP_PENDING_AFTER_SECONDS = 0
    notification_sweep_all_tenants.delay()

    wait_delivered(alpha)
    assert len(httpserver.log) == 1


def test_the_relay_delivers_at_once_even_while_the_broker_is_down(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    receiver_at(httpserver, alpha)

    broker.stop()
    try:
        response = post_one_alert(live_server, key)
        assert response.status_code == 200
        # The wake went through PostgreSQL: no broker between the commit and the send.
        wait_delivered(alpha)
    finally:
        broker.start()
    assert len(httpserver.log) == 1


def test_a_wake_nobody_hears_leaves_the_notification_to_the_sweep(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, settings
):
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    receiver_at(httpserver, alpha)

    delivery_relay_stop()  # no relay listening: the NOTIFY reaches nobody
    try:
        response = post_one_alert(live_server, key)
        assert response.status_code == 200
        with tenant_context(alpha):
            assert Notification.objects.get().state == NotificationState.PENDING

        settings.HERALD_SWEEP_PENDING_AFTER_SECONDS = 0
        notification_sweep_all_tenants.delay()
        wait_delivered(alpha)
    finally:
        relay = delivery_relay_start()
        relay.leading.wait(10)
    assert len(httpserver.log) == 1


def test_the_wake_and_the_sweeps_entry_leave_in_one_statement_after_the_commit(
    committed_tenants, ingest_key
):
    """An SRE's single-alert webhook pays one round trip after its commit for
    both: the relay hears of the notification, and the due-work index names
    the tenant for the sweep should nobody hear it."""
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory()
    key = ingest_key(alpha)
    listener = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        listener.execute(f"LISTEN {WAKE_CHANNEL}")
        with CaptureQueriesContext(connection) as queries:
            response = post(public_client(), WebhookPayloadFactory(), key)
        assert response.status_code == 200
        heard = [note.payload for note in listener.notifies(timeout=5, stop_after=1)]
    finally:
        listener.close()

    assert heard == [alpha.schema_name]
    after_commit = [q["sql"] for q in queries.captured_queries
                    if "pg_notify" in q["sql"] or "tenants_tenantduework" in q["sql"]]
    assert len(after_commit) == 1
    assert TenantDueWork.objects.filter(tenant=alpha, kind=DueKind.NOTIFICATIONS).exists()
