"""For real: Grafana and a PagerDuty-wired tool post over HTTP; a worker delivers as routed.

The receiver is a local webhook (pytest-httpserver); its body is Herald's
Alertmanager-shaped message, annotations included, so it shows Grafana's
links and values as every channel's message can.
"""

from __future__ import annotations

import json

import pytest
import requests
from django_tenants.utils import tenant_context

from alerting.models import IngestSource
from receivers.models import Notification, NotificationState
from receivers.services import receiver_create
from tests.alerting.sources.payloads import body_of, grafana_payload, grafana_signed, pd_trigger
from tests.conftest import wait_for
from tests.factories import RouteFactory

pytestmark = pytest.mark.e2e
SECRET = "e2e-grafana-secret"


def delivered_to(tenant, name: str) -> list[Notification]:
    with tenant_context(tenant):
        return list(Notification.objects.filter(
            receiver__name=name, state=NotificationState.DELIVERED
        ))


def test_a_signed_grafana_alert_is_routed_and_delivered_with_its_links(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    httpserver.expect_request("/blue", method="POST").respond_with_data("ok")
    httpserver.expect_request("/red", method="POST").respond_with_data("ok")
    with tenant_context(alpha):
        blue = receiver_create(name="blue-hook", kind="webhook", config={},
                               secrets={"url": httpserver.url_for("/blue")})
        red = receiver_create(name="red-hook", kind="webhook", config={},
                              secrets={"url": httpserver.url_for("/red")})
        RouteFactory(name="blue-team", matchers='team="blue"', receivers=[blue])
        RouteFactory(name="red-team", matchers='team="red"', receivers=[red])
        IngestSource.objects.create(name="grafana-prod", kind="grafana",
                                    ingest_key_prefix=key[:10], secrets={"hmac_secret": SECRET})
    body = body_of(grafana_payload())
    signature = grafana_signed(body, SECRET)["HTTP_X_GRAFANA_ALERTING_SIGNATURE"]

    response = requests.post(
        live_server.url + "/api/v1/grafana/", data=body, timeout=10,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                 "X-Grafana-Alerting-Signature": signature},
    )

    assert response.status_code == 200 and response.json()["notifications"] == 1
    wait_for(lambda: delivered_to(alpha, "blue-hook"), timeout=30)
    assert delivered_to(alpha, "red-hook") == []
    (hook, _), = [(r, s) for r, s in httpserver.log if r.path == "/blue"]
    sent = {alert["fingerprint"]: alert for alert in json.loads(hook.data)["alerts"]}
    assert sent["bc97ff14869b13e3"]["annotations"]["panel_url"].endswith("viewPanel=3")
    assert sent["c6eadffa33fcdf37"]["annotations"]["values"] == "B=44.2394, C=1"


def test_a_pagerduty_trigger_then_resolve_reach_the_receiver(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    key = ingest_key(alpha)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with tenant_context(alpha):
        receiver_create(name="hook", kind="webhook", config={},
                        secrets={"url": httpserver.url_for("/hook")})
        IngestSource.objects.create(name="monitoring", kind="pagerduty_events",
                                    ingest_key_prefix=key[:10])
    enqueue = live_server.url + "/api/v1/events/v2/enqueue"

    trigger = requests.post(enqueue, json=pd_trigger(key), timeout=10)
    wait_for(lambda: len(delivered_to(alpha, "hook")) == 1, timeout=30)
    resolve = requests.post(enqueue, timeout=10, json={
        "routing_key": key, "event_action": "resolve", "dedup_key": "srv01/mysql",
    })
    wait_for(lambda: len(delivered_to(alpha, "hook")) == 2, timeout=30)

    assert trigger.status_code == resolve.status_code == 202
    statuses = [json.loads(r.data)["status"] for r, _ in httpserver.log if r.path == "/hook"]
    assert statuses == ["firing", "resolved"]
