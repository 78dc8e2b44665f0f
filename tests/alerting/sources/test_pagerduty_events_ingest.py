"""A tool wired for PagerDuty's Events API v2 posts to Herald and reads PagerDuty's answers."""

from __future__ import annotations

import pytest

from alerting.audit.models import AuditEntry
from alerting.models import Alert, AlertGroup
from receivers.models import Notification
from tests.alerting.sources.payloads import body_of, pd_follow_up, pd_trigger
from tests.factories import IngestSourceFactory, ReceiverFactory
from tests.ingest import post, public_client

ENQUEUE = "/api/v1/events/v2/enqueue"


@pytest.fixture
def client():
    return public_client()


@pytest.fixture
def key(alpha, ingest_key) -> str:
    key = ingest_key(alpha)
    IngestSourceFactory(name="monitoring", kind="pagerduty_events", ingest_key_prefix=key[:10])
    return key


def enqueue(client, event):
    return post(client, body_of(event), path=ENQUEUE)  # no Authorization: the key is in the body


def test_a_trigger_fires_an_alert_answered_as_pagerduty_answers(alpha, client, key):
    ReceiverFactory()

    response = enqueue(client, pd_trigger(key))

    assert response.status_code == 202
    assert response.json() == {
        "status": "success", "message": "Event processed", "dedup_key": "srv01/mysql",
    }
    alert = Alert.objects.get()
    assert alert.status == "firing"
    assert alert.labels == {
        "alertname": "disk", "source": "prod-datapipe03.example.com", "severity": "critical",
        "component": "mysql", "group": "prod-datapipe", "class": "disk",
        "free_space": "1%", "ping_time": "1500ms", "load_avg": "0.75",
    }
    assert alert.annotations["summary"] == "DISK at 99% on machine prod-datapipe03.example.com"
    assert alert.annotations["dedup_key"] == "srv01/mysql"
    assert alert.annotations["image_url"] == "https://chart.example.com/disk.png"
    assert alert.annotations["links"] == "https://monitoring.example.com/srv01"
    assert alert.generator_url == "https://monitoring.example.com"
    assert alert.starts_at.isoformat() == "2026-11-30T14:42:58.315000+00:00"
    assert AlertGroup.objects.get().group_key == "pagerduty/monitoring:srv01/mysql"
    assert Notification.objects.count() == 1


def test_a_repeated_trigger_is_the_same_incident_and_notifies_once(alpha, client, key):
    ReceiverFactory()
    enqueue(client, pd_trigger(key))
    enqueue(client, pd_trigger(key, payload={**pd_trigger(key)["payload"], "timestamp": None}))
    assert Alert.objects.count() == 1 and Notification.objects.count() == 1


def test_a_trigger_without_dedup_key_gets_one_and_it_resolves_the_alert(alpha, client, key):
    ReceiverFactory()
    event = pd_trigger(key)
    del event["dedup_key"]

    dedup_key = enqueue(client, event).json()["dedup_key"]
    resolved = enqueue(client, pd_follow_up(key, "resolve", dedup_key))

    assert len(dedup_key) == 32
    assert resolved.status_code == 202 and resolved.json()["dedup_key"] == dedup_key
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.ends_at is not None
    assert alert.labels["alertname"] == "disk"  # a resolve keeps what the trigger said
    assert list(Notification.objects.order_by("id").values_list("status", flat=True)) == [
        "firing", "resolved",
    ]


def test_acknowledge_acknowledges_the_herald_incident_as_the_source(alpha, client, key):
    enqueue(client, pd_trigger(key))

    response = enqueue(client, pd_follow_up(key, "acknowledge"))

    assert response.status_code == 202
    assert response.json()["dedup_key"] == "srv01/mysql"
    group = AlertGroup.objects.get()
    assert group.acknowledged_at is not None
    assert group.acknowledged_by == "pagerduty-events:monitoring"
    entry = AuditEntry.objects.filter(action="acknowledge").get()
    assert entry.actor == "pagerduty-events:monitoring" and entry.source == "api"


def test_acknowledge_and_resolve_of_an_unknown_key_are_accepted_and_change_nothing(
    alpha, client, key
):
    for action in ("acknowledge", "resolve"):
        response = enqueue(client, pd_follow_up(key, action, "never-triggered"))
        assert response.status_code == 202
    assert AlertGroup.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"routing_key": ""}, "'routing_key' is missing or blank"),
        ({"event_action": "explode"}, "'event_action' is invalid"),
        ({"payload": {"summary": "x", "source": "y", "severity": "fatal"}},
         "'payload.severity' is invalid (must be one of: critical, error, warning, info)"),
        ({"payload": {"source": "y", "severity": "info"}}, "'payload.summary' is missing"),
        ({"payload": "text"}, "'payload' is missing or not an object"),
        ({"dedup_key": "k" * 256}, "'dedup_key' is longer than 255 characters"),
        ({"payload": {"summary": "a\u0000b", "source": "y", "severity": "info"}}, "'alerts"),
    ],
)
def test_a_bad_event_is_a_400_invalid_event_with_errors(alpha, client, key, change, error):
    response = enqueue(client, {**pd_trigger(key), **change})

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any(e.startswith(error) for e in body["errors"]), body["errors"]
    assert Alert.objects.count() == 0


def test_a_missing_routing_key_and_a_follow_up_without_dedup_key_name_their_fields(
    alpha, client, key
):
    event = pd_trigger(key)
    del event["routing_key"]
    no_key = enqueue(client, event)
    no_dedup = enqueue(client, {"routing_key": key, "event_action": "resolve"})

    assert no_key.status_code == no_dedup.status_code == 400
    assert no_key.json()["errors"] == ["'routing_key' is missing or blank"]
    assert no_dedup.json()["errors"] == ["'dedup_key' is missing or blank"]
    assert enqueue(client, "not json{").status_code == 400


def test_an_unknown_routing_key_is_refused_in_pagerdutys_shape(alpha, client, key):
    response = enqueue(client, pd_trigger("hk_" + "z" * 43))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid routing key"
    assert Alert.objects.count() == 0


def test_another_tenants_key_cannot_touch_this_tenants_incident(
    alpha, beta, client, key, ingest_key
):
    from django_tenants.utils import tenant_context

    enqueue(client, pd_trigger(key))
    beta_key = ingest_key(beta)
    # beta's key names no PagerDuty source of beta's.
    assert enqueue(client, pd_follow_up(beta_key, "acknowledge")).status_code == 403
    with tenant_context(beta):
        IngestSourceFactory(name="monitoring", kind="pagerduty_events",
                            ingest_key_prefix=beta_key[:10])
    # Bound in beta, the same dedup_key is beta's own (unknown) incident.
    assert enqueue(client, pd_follow_up(beta_key, "acknowledge")).status_code == 202
    assert AlertGroup.objects.get().acknowledged_at is None
    assert Alert.objects.get().status == "firing"


def test_a_throttled_sender_gets_429(alpha, client, key, settings):
    alpha.ingest_rate_limit = "1/minute"
    alpha.save()
    assert enqueue(client, pd_trigger(key)).status_code == 202
    throttled = enqueue(client, pd_trigger(key))
    assert throttled.status_code == 429
    assert throttled.json()["status"] == "throttle event"
