"""/metrics: Herald's own metrics after real activity, summed over processes."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
from celery.signals import worker_process_shutdown
from django.conf import settings
from django.db import connection
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from alerting.infra.gunicorn_conf import child_exit
from alerting.infra.metrics import alerts_received, metrics_registry
from receivers.delivery import notifications_deliver
from tests.factories import (
    NotificationFactory,
    ReceiverFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import keep_schema, post, public_client


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


SCRAPE_TOKEN = "ops-test-scrape-token"


@pytest.fixture(autouse=True)
def _metrics_token(settings) -> None:
    # Outside demo mode /metrics needs credentials: Prometheus is given this token.
    settings.HERALD_METRICS_BEARER_TOKEN = SCRAPE_TOKEN


def scrape(**headers) -> str:
    headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {SCRAPE_TOKEN}")
    with keep_schema():
        response = public_client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_ingest_counts_alerts_by_tenant_and_status(alpha, ingest_key):
    key = ingest_key(alpha)
    before = alerts_received.labels(tenant="alpha", status="firing")._value.get()
    resolved_before = alerts_received.labels(tenant="alpha", status="resolved")._value.get()
    payload = WebhookPayloadFactory(
        alerts=[*WebhookAlertFactory.build_batch(2), WebhookAlertFactory(status="resolved")]
    )

    assert post(public_client(), payload, key).status_code == 200

    found = samples(scrape())
    assert found[("alertmanager_alerts_total", (("status", "firing"), ("tenant", "alpha")))] == (
        before + 2
    )
    assert found[
        ("alertmanager_alerts_total", (("status", "resolved"), ("tenant", "alpha")))
    ] == resolved_before + 1
    # django-prometheus' own request metrics are there too.
    assert any(name.startswith("django_http_requests") for name, _ in found)


def test_labels_are_bounded(alpha, ingest_key):
    """No alert names, instances or fingerprints as labels: only tenant and status."""
    key = ingest_key(alpha)
    post(public_client(), WebhookPayloadFactory(), key)
    for family in text_string_to_metric_families(scrape()):
        if family.name.startswith("alertmanager_"):
            for sample in family.samples:
                assert set(sample.labels) <= {
                    "tenant", "status", "receiver", "channel", "policy", "level", "reason",
                    "code", "state", "le",
                    # noise control's: flapping started/ended, storm per tenant/group
                    "event", "scope",
                }, sample


_CHILD = textwrap.dedent(
    """
    import os, sys
    from alerting.infra.metrics import alerts_received_record, escalation_events
    from receivers.metrics import notifications_total, receiver_health
    count = int(sys.argv[1])
    alerts_received_record(tenant="alpha", alerts=[{"status": "firing"}] * count)
    escalation_events.labels(tenant="alpha", policy="db", level="1").inc()
    notifications_total.labels(
        tenant="alpha", receiver="hook", channel="webhook", status="delivered"
    ).inc(count)
    receiver_health.labels(tenant="alpha", receiver="hook", channel="webhook").set(1)
    print(os.getpid())
    """
)


def test_several_processes_add_up(tmp_path, monkeypatch, db):
    """Two worker processes count in one PROMETHEUS_MULTIPROC_DIR; /metrics shows the sum."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "alerting.infra.settings",
        "HERALD_VAR_DIR": str(settings.VAR_DIR),
        "XDG_RUNTIME_DIR": str(settings.VAR_DIR / "run"),
    }
    pids = [
        int(subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHILD, str(count)],
            env=env, cwd=settings.BASE_DIR, check=True, timeout=60, capture_output=True,
            text=True,
        ).stdout.split()[-1])
        for count in (3, 4)
    ]
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    found = samples(scrape())

    assert found[("alertmanager_alerts_total", (("status", "firing"), ("tenant", "alpha")))] == 7
    assert found[
        ("alertmanager_escalation_events_total",
         (("level", "1"), ("policy", "db"), ("tenant", "alpha")))
    ] == 2
    assert found[
        ("alertmanager_notifications_total",
         (("channel", "webhook"), ("receiver", "hook"), ("status", "delivered"),
          ("tenant", "alpha")))
    ] == 7
    health = {
        dict(labels)["pid"]: value for (name, labels), value in found.items()
        if name == "alertmanager_receiver_health"
    }
    assert health == {str(pids[0]): 1, str(pids[1]): 1}

    # gunicorn's child_exit hook forgets a dead worker's live gauges, keeps its counters.
    child_exit(server=None, worker=SimpleNamespace(pid=pids[0]))
    found = samples(scrape())
    assert [
        dict(labels)["pid"] for (name, labels) in found if name == "alertmanager_receiver_health"
    ] == [str(pids[1])]
    assert found[("alertmanager_alerts_total", (("status", "firing"), ("tenant", "alpha")))] == 7
    # So does a Celery pool process that exits.
    worker_process_shutdown.send(sender=None, pid=pids[1], exitcode=0)
    assert not any(name == "alertmanager_receiver_health" for name, _ in samples(scrape()))

    # The same as prometheus_client's own aggregation of those files.
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value(
        "alertmanager_alerts_total", {"tenant": "alpha", "status": "firing"}
    ) == 7


def test_a_process_creating_its_file_during_a_scrape_does_not_fail_it(tmp_path, monkeypatch):
    """prometheus_client creates a process's file empty, then sizes it: a scrape between."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    counted = MmapedDict(str(tmp_path / "counter_101.db"))
    counted.write_value(
        json.dumps(["alertmanager_alerts", "alertmanager_alerts_total",
                    {"tenant": "alpha", "status": "firing"}, "Alerts received"]), 5, 0.0,
    )
    counted.close()
    (tmp_path / "counter_102.db").touch()  # a new process's file, not sized yet

    registry = metrics_registry()

    assert registry.get_sample_value(
        "alertmanager_alerts_total", {"tenant": "alpha", "status": "firing"}
    ) == 5
    # What prometheus_client alone does with the same files.
    with pytest.raises(struct.error):
        multiprocess.MultiProcessCollector(CollectorRegistry(), path=str(tmp_path)).collect()


def test_metrics_may_require_a_bearer_token(db, settings):
    settings.HERALD_METRICS_BEARER_TOKEN = "s3cret-token"
    with keep_schema():
        client = public_client()
        refused = client.get("/metrics")
        wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert refused.status_code == wrong.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert allowed.status_code == 200


def test_metrics_may_require_basic_auth(db, settings):
    settings.HERALD_METRICS_BEARER_TOKEN = ""
    settings.HERALD_METRICS_BASIC_AUTH = "prometheus:pa55"
    good = base64.b64encode(b"prometheus:pa55").decode()
    bad = base64.b64encode(b"prometheus:guess").decode()
    with keep_schema():
        client = public_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {bad}").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {good}").status_code == 200


def test_metrics_without_credentials_configured_refuse_everyone_outside_demo(db, settings):
    settings.HERALD_METRICS_BEARER_TOKEN = settings.HERALD_METRICS_BASIC_AUTH = ""
    settings.HERALD_DEMO = False
    with keep_schema():
        refused = public_client().get("/metrics")
        guessed = public_client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert refused.status_code == guessed.status_code == 401
    assert b"alertmanager_" not in refused.content


def test_metrics_are_open_in_demo_mode_without_credentials(db, settings):
    settings.HERALD_METRICS_BEARER_TOKEN = settings.HERALD_METRICS_BASIC_AUTH = ""
    settings.HERALD_DEMO = True
    with keep_schema():
        assert public_client().get("/metrics").status_code == 200


def test_the_tenant_label_is_the_slug_in_delivery_metrics_too(alpha, httpserver):
    """Operators know tenants by slug: a tenant whose schema is named otherwise is still
    labelled by its slug, in delivery's counters and health gauge as in ingest's."""
    alpha.slug = "team-alpha"  # the schema stays "alpha"
    alpha.save(update_fields=["slug"])
    connection.set_tenant(alpha)
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    notifications_deliver(notification_ids=[NotificationFactory(receiver=receiver).id])

    tenants = {
        dict(labels).get("tenant") for (name, labels) in samples(scrape())
        if name in ("alertmanager_notifications_total", "alertmanager_receiver_health")
        and dict(labels).get("receiver") == receiver.name
    }
    assert tenants == {"team-alpha"}
