"""Flapping and storms end to end: HTTP ingest, the real worker, a local receiver."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from alerting.models import Alert
from alerting.noise_models import NoiseRate
from alerting.noise_tasks import noise_control_tick
from tests.alerting.noise.factories import TenantRateFactory
from tests.conftest import wait_for
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client

pytestmark = pytest.mark.e2e


def bodies(httpserver, path="/hook"):
    return [request.get_json() for request, _ in httpserver.log if request.path == path]


def messages(httpserver, count, path="/hook", timeout=30.0):
    """Wait until the receiver got `count` messages (and a moment more: no extra one)."""
    wait_for(lambda: len(bodies(httpserver, path)) >= count, timeout=timeout)
    return bodies(httpserver, path)


@pytest.fixture
def no_grouping_window(settings):
    # each message goes when it is due: the story is about holding and folding
    settings.HERALD_GROUP_WINDOW_SECONDS = 0


def test_a_flapping_alert_on_a_holding_route_gets_one_summary_per_window_not_a_page_per_flip(
    committed_tenants, celery_worker_thread, httpserver, ingest_key, no_grouping_window
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with tenant_context(alpha):
        receiver = ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook")})
        RouteFactory(name="everything", receivers=[receiver],
                     flap_threshold=2, flap_window=4, flap_hold=True)
    key = ingest_key(alpha)
    alert = WebhookAlertFactory(annotations={"summary": "disk nearly full"})
    group = WebhookPayloadFactory()["groupKey"]

    statuses = ["firing", "resolved"] * 4  # eight state changes within a second or two
    for status in statuses:
        flip = {**alert, "status": status}
        response = post(public_client(), WebhookPayloadFactory(
            groupKey=group, status=status, alerts=[flip]), key)
        assert response.status_code == 200

    # the first two changes were news; from the third the alert flaps and is held
    first = messages(httpserver, 2)
    # Without a grouping window each goes at once, but in order: the resolve
    # waits for its firing's send.
    assert [body["alerts"][0]["status"] for body in first[:2]] == ["firing", "resolved"]
    with tenant_context(alpha):
        stored = Alert.objects.get(fingerprint=alert["fingerprint"])
        assert stored.flapping and stored.flap_held == 6

    # when the window is over, one summary of what was held, in the alert's state now
    got = messages(httpserver, 3, timeout=20)
    summary = got[2]["alerts"][0]
    assert summary["fingerprint"] == alert["fingerprint"]
    assert summary["status"] == "resolved"
    assert re.match(r"flapped 6 times in 1 min, now resolved: disk nearly full",
                    summary["annotations"]["summary"])
    assert len(bodies(httpserver)) == 3, "no message per flip"


def test_an_alert_storm_says_so_once_folds_the_rest_into_digests_and_pages_flow_after_it(
    committed_tenants, celery_worker_thread, httpserver, ingest_key, no_grouping_window, settings
):
    settings.HERALD_STORM_DIGEST_SECONDS = 2
    alpha, beta = committed_tenants["alpha"], committed_tenants["beta"]
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/beta", method="POST").respond_with_data("ok")
    with tenant_context(alpha):
        ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook")})
        TenantRateFactory(recent_mean=2.0, recent_var=1.0)  # usually 2 alerts per 5 minutes
    with tenant_context(beta):
        ReceiverFactory(name="beta-hook", secrets={"url": httpserver.url_for("/beta")})
    key, beta_key = ingest_key(alpha), ingest_key(beta)

    # 25 alerts at once: their message goes, and the storm is said once
    burst = [WebhookAlertFactory() for _ in range(25)]
    assert post(public_client(), WebhookPayloadFactory(alerts=burst), key).status_code == 200
    got = messages(httpserver, 2)
    storm = [body for body in got if body["alerts"][0]["labels"]["alertname"] == "HeraldAlertStorm"]
    assert len(storm) == 1
    assert re.fullmatch(r"alert storm: 25 alerts in \d min, usual 2",
                        storm[0]["alerts"][0]["annotations"]["summary"])

    # the storm goes on: ten more alerts, each in its own group, come folded into digests
    for _ in range(10):
        assert post(public_client(), WebhookPayloadFactory(), key).status_code == 200
    # beta's alert meanwhile is paged as usual
    assert post(public_client(), WebhookPayloadFactory(), beta_key).status_code == 200
    assert len(messages(httpserver, 1, path="/beta")) == 1
    wait_for(lambda: sum(len(body["alerts"]) for body in bodies(httpserver)[2:]) >= 10,
             timeout=30)
    digests = bodies(httpserver)[2:]
    assert all(body["commonLabels"]["alertname"] == "HeraldDigest" for body in digests)
    assert len(digests) <= 3, "a digest per few seconds, not a page per alert"
    assert re.search(r"\d+ more alerts? in the last", digests[0]["commonAnnotations"]["summary"])

    # ten quiet minutes later the tick finds the storm over, and pages flow again
    with tenant_context(alpha):
        size = 300
        for row in NoiseRate.objects.all():
            row.bucket_start -= 2 * size
            row.save(update_fields=["bucket_start"])
        noise_control_tick.apply_async()
    wait_for(lambda: _storm_over(alpha), timeout=20)
    after = WebhookPayloadFactory()
    assert post(public_client(), after, key).status_code == 200
    seen = 2 + len(digests)
    got = messages(httpserver, seen + 1)
    assert got[seen]["alerts"][0]["fingerprint"] == after["alerts"][0]["fingerprint"]
    assert got[seen]["commonLabels"]["alertname"] != "HeraldDigest"
    assert len(bodies(httpserver)) == seen + 1


def _storm_over(tenant) -> bool:
    with tenant_context(tenant):
        return not NoiseRate.objects.filter(storm_since__isnull=False).exists()
