"""Grafana Alerting's webhook contact point posts to Herald, signed or not."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from alerting.models import Alert, AlertGroup
from receivers.models import Notification
from tests.alerting.sources.payloads import body_of, grafana_payload, grafana_signed, now
from tests.factories import IngestSourceFactory, ReceiverFactory
from tests.ingest import post, public_client

GRAFANA = "/api/v1/grafana/"
SECRET = "grafana-hmac-secret"


@pytest.fixture
def client():
    return public_client()


@pytest.fixture
def key(alpha, ingest_key) -> str:
    return ingest_key(alpha)


def source(key: str, **fields):
    return IngestSourceFactory(name="grafana-prod", kind="grafana", ingest_key_prefix=key[:10],
                               **fields)


def send(client, payload, key, **headers):
    return post(client, body_of(payload), key, path=GRAFANA, **headers)


def test_grafanas_documented_payload_is_stored_with_its_links_and_values(alpha, client, key):
    source(key)
    ReceiverFactory()

    response = send(client, grafana_payload(), key)

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "alerts": 2, "notifications": 1}
    memory = Alert.objects.get(fingerprint="c6eadffa33fcdf37")
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.annotations["summary"] == "This alert was triggered for zone us-1"
    assert memory.annotations["values"] == "B=44.2394, C=1"
    assert memory.annotations["silence_url"].startswith("https://play.grafana.example/alerting/")
    assert "dashboard_url" not in memory.annotations  # Grafana sent it empty
    cpu = Alert.objects.get(fingerprint="bc97ff14869b13e3")
    assert cpu.annotations["dashboard_url"] == "https://play.grafana.example/d/cpu"
    assert cpu.annotations["panel_url"] == "https://play.grafana.example/d/cpu?viewPanel=3"
    assert cpu.annotations["image_url"] == "https://play.grafana.example/render/cpu.png"
    group = AlertGroup.objects.get()
    assert group.group_key == "grafana/grafana-prod:{}:{}"
    assert group.last_payload["orgId"] == 1  # the body as Grafana sent it, for the audit trail


def test_grafana_repeating_a_notification_notifies_nobody_twice(alpha, client, key):
    source(key)
    ReceiverFactory()
    first, repeat = send(client, grafana_payload(), key), send(client, grafana_payload(), key)
    assert (first.json()["notifications"], repeat.json()["notifications"]) == (1, 0)
    assert Alert.objects.count() == 2 and Notification.objects.count() == 1


def test_a_signed_body_is_accepted_and_a_wrong_or_missing_signature_refused(alpha, client, key):
    source(key, secrets={"hmac_secret": SECRET})
    body = body_of(grafana_payload())

    wrong = post(client, body, key, path=GRAFANA, **grafana_signed(body, "another secret"))
    missing = post(client, body, key, path=GRAFANA)
    tampered = post(client, body.replace(b"us-1", b"us-2"), key, path=GRAFANA,
                    **grafana_signed(body, SECRET))

    for refused in (wrong, missing, tampered):
        assert refused.status_code == 401
    assert "does not match the body" in wrong.json()["detail"]
    assert "X-Grafana-Alerting-Signature header is required" in missing.json()["detail"]
    assert Alert.objects.count() == 0

    good = post(client, body, key, path=GRAFANA, **grafana_signed(body, SECRET))
    assert good.status_code == 200 and Alert.objects.count() == 2


def test_the_signature_header_name_is_a_setting(alpha, client, key):
    source(key, secrets={"hmac_secret": SECRET}, config={"signature_header": "X-Signature"})
    body = body_of(grafana_payload())
    signature = grafana_signed(body, SECRET)["HTTP_X_GRAFANA_ALERTING_SIGNATURE"]

    default_name = post(client, body, key, path=GRAFANA, **grafana_signed(body, SECRET))
    own_name = post(client, body, key, path=GRAFANA, HTTP_X_SIGNATURE=signature)

    assert default_name.status_code == 401 and own_name.status_code == 200


def test_a_stale_timestamp_is_refused_and_a_replay_changes_nothing(alpha, client, key):
    source(key, secrets={"hmac_secret": SECRET}, config={
        "timestamp_header": "X-Grafana-Alerting-Timestamp", "replay_window_seconds": 60,
    })
    ReceiverFactory()
    body = body_of(grafana_payload())

    stale = post(client, body, key, path=GRAFANA, **grafana_signed(body, SECRET, stamp=now() - 120))
    unstamped = post(client, body, key, path=GRAFANA, **grafana_signed(body, SECRET))
    assert stale.status_code == unstamped.status_code == 401
    assert "stale or replayed" in stale.json()["detail"]
    assert "X-Grafana-Alerting-Timestamp header is required" in unstamped.json()["detail"]
    assert Alert.objects.count() == 0

    fresh = grafana_signed(body, SECRET, stamp=now())
    first = post(client, body, key, path=GRAFANA, **fresh)
    replayed = post(client, body, key, path=GRAFANA, **fresh)
    assert first.json()["notifications"] == 1
    assert replayed.status_code == 200 and replayed.json()["notifications"] == 0
    # The timestamp is signed: moving it forward breaks the signature.
    moved = {**fresh, "HTTP_X_GRAFANA_ALERTING_TIMESTAMP": str(now() + 1)}
    assert post(client, body, key, path=GRAFANA, **moved).status_code == 401


def test_truncated_alerts_are_a_visible_warning(alpha, client, key, caplog):
    source(key)
    before = REGISTRY.get_sample_value(
        "herald_source_truncated_alerts_total", {"tenant": alpha.slug, "source": "grafana"}
    ) or 0

    with caplog.at_level(logging.WARNING, logger="alerting.api.grafana_ingest"):
        response = send(client, grafana_payload(truncatedAlerts=7), key)

    assert response.status_code == 200
    warning = "Grafana left 7 alert(s) out of this notification"
    assert Alert.objects.get(fingerprint="c6eadffa33fcdf37").annotations[
        "herald_warning"].startswith(warning)
    group = AlertGroup.objects.get()
    assert group.truncated_alerts == 7
    assert group.common_annotations["herald_warning"].startswith(warning)
    assert "left 7 alert(s) out" in caplog.text
    assert REGISTRY.get_sample_value(
        "herald_source_truncated_alerts_total", {"tenant": alpha.slug, "source": "grafana"}
    ) == before + 7


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (grafana_payload(version="4"), "version"),
        ({k: v for k, v in grafana_payload().items() if k != "alerts"}, "alerts"),
        (grafana_payload(status="burning"), "status"),
        (grafana_payload(alerts=[{**grafana_payload()["alerts"][0], "labels": {"x": 1}}]),
         "alerts"),
        (grafana_payload(alerts=[{**grafana_payload()["alerts"][0], "values": "high"}]),
         "alerts[0].values"),
        (grafana_payload(alerts=[{**grafana_payload()["alerts"][0], "panelURL": "x" * 3000}]),
         "alerts[0].panelURL"),
        (["not", "an", "object"], "non_field_errors"),
    ],
)
def test_a_payload_of_the_wrong_shape_is_a_400_naming_the_field(
    alpha, client, key, payload, field
):
    source(key)
    response = send(client, payload, key)
    assert response.status_code == 400
    assert field in response.json()
    assert Alert.objects.count() == 0


def test_a_key_bound_to_no_grafana_source_is_refused(alpha, client, key, ingest_key):
    source(key, enabled=False)
    IngestSourceFactory(name="pd", kind="pagerduty_events", ingest_key_prefix=key[:10])
    response = send(client, grafana_payload(), key)
    assert response.status_code == 403
    assert "no enabled Grafana source" in response.json()["detail"]
    assert Alert.objects.count() == 0


def test_another_tenants_key_reaches_only_that_tenant(alpha, beta, client, key, ingest_key):
    source(key)
    beta_key = ingest_key(beta)

    # beta's key is bound to no source of beta's: refused, and alpha is untouched.
    assert send(client, grafana_payload(), beta_key).status_code == 403
    assert Alert.objects.count() == 0
    # Unknown keys are 401, as on Alertmanager's endpoint.
    assert send(client, grafana_payload(), "hk_" + "x" * 43).status_code == 401
    assert connection.tenant.pk == alpha.pk
