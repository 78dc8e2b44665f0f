"""The whole path, for real: HTTP ingest → PostgreSQL → broker → worker → receiver."""

from __future__ import annotations

import pytest
import requests
from django_tenants.utils import tenant_context

from alerting.models import Alert
from receivers.delivery import notifications_enqueue
from receivers.models import Notification, NotificationState
from tests.conftest import wait_for
from tests.factories import NotificationFactory, ReceiverFactory, WebhookPayloadFactory
from tests.ingest import INGEST

pytestmark = pytest.mark.e2e


def delivered(tenant) -> list[Notification]:
    with tenant_context(tenant):
        return list(Notification.objects.filter(state=NotificationState.DELIVERED))


def test_an_alert_posted_over_http_reaches_the_receiver(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook")})
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    payload = WebhookPayloadFactory()

    response = requests.post(
        live_server.url + INGEST,
        json=payload,
        headers={"Authorization": f"Bearer {ingest_key(alpha)}"},
        timeout=10,
    )

    assert response.status_code == 200
    [notification] = wait_for(lambda: delivered(alpha))
    assert (notification.attempts, notification.last_http_status) == (1, 200)
    [(request, _)] = httpserver.log
    body = request.get_json()
    assert body["receiver"] == "ops-hook"
    assert body["alerts"][0]["fingerprint"] == payload["alerts"][0]["fingerprint"]


def test_a_task_runs_in_the_schema_of_the_tenant_that_enqueued_it(
    committed_tenants, celery_worker_thread, httpserver
):
    # Both tenants hold a notification #1; the task names only the id.
    ids = {}
    for slug in ("alpha", "beta"):
        httpserver.expect_request(f"/{slug}").respond_with_data("ok")
        with tenant_context(committed_tenants[slug]):
            receiver = ReceiverFactory(secrets={"url": httpserver.url_for(f"/{slug}")})
            ids[slug] = NotificationFactory(receiver=receiver).id
    assert ids["alpha"] == ids["beta"]

    with tenant_context(committed_tenants["alpha"]):
        notifications_enqueue(notification_ids=[ids["alpha"]])

    wait_for(lambda: delivered(committed_tenants["alpha"]))
    assert [request.path for request, _ in httpserver.log] == ["/alpha"]
    assert delivered(committed_tenants["beta"]) == []


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b"{}", 401),
        ({"Authorization": "Bearer hk_wrong"}, b"{}", 401),
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "application/json"}, b'{"version": "4"}', 400),
        ({"Content-Type": "text/plain"}, b"hello", 415),
        ({"Content-Type": "application/json"}, b"[" * 5_000_000, 413),
    ],
    ids=["no key", "wrong key", "not JSON", "wrong shape", "not JSON type", "too large"],
)
def test_bad_requests_over_http_get_a_precise_4xx_and_store_nothing(
    live_server, committed_tenants, ingest_key, headers, body, status
):
    alpha = committed_tenants["alpha"]
    if "Authorization" not in headers and status != 401:
        headers = {**headers, "Authorization": f"Bearer {ingest_key(alpha)}"}

    response = requests.post(live_server.url + INGEST, data=body, headers=headers, timeout=10)

    assert response.status_code == status
    assert "detail" in response.json() or status == 400
    with tenant_context(alpha):
        assert Alert.objects.count() == 0
