"""A monitoring tool with its own JSON posts to a generic JSON source; Herald maps, stores and
routes its alerts, or answers 400 naming the mapping's field."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

from alerting.models import Alert, AlertGroup
from receivers.models import Notification
from tests.alerting.sources.test_generic_json_mapping import (
    CHECKS_MAPPING,
    CLOUDWATCH_MAPPING,
    cloudwatch_alarm,
)
from tests.factories import IngestSourceFactory, ReceiverFactory, RouteFactory
from tests.ingest import keep_schema, post, public_client


@pytest.fixture
def client() -> Client:
    return public_client()


def cloudwatch_source(key: str, **fields) -> object:
    return IngestSourceFactory(
        name="cloudwatch", kind="generic_json", ingest_key_prefix=key[:10],
        config=CLOUDWATCH_MAPPING, **fields,
    )


def test_a_cloudwatch_alarm_is_stored_and_routed_by_its_mapped_labels(alpha, client, ingest_key):
    key = ingest_key(alpha)
    cloudwatch_source(key)
    ops, everyone = ReceiverFactory(name="ops"), ReceiverFactory(name="everyone")
    RouteFactory(matchers='alertname="HighCPU"', receivers=[ops])
    RouteFactory(is_default=True, receivers=[everyone])

    response = post(client, cloudwatch_alarm(), key, path="/api/v1/sources/cloudwatch/")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "alerts": 1, "notifications": 1, "groups": 1}
    alert = Alert.objects.get()
    assert alert.labels == {
        "alertname": "HighCPU", "region": "EU (Ireland)", "instance": "i-0abc123",
    }
    assert alert.status == "firing"
    group = AlertGroup.objects.get()
    assert group.group_key == 'source/cloudwatch:{alertname="HighCPU"}'
    assert group.last_payload == cloudwatch_alarm()  # the body as the tool sent it
    assert list(Notification.objects.values_list("receiver_name", flat=True)) == ["ops"]

    ok = post(client, cloudwatch_alarm("OK"), key, path="/api/v1/sources/cloudwatch/")

    assert ok.json()["notifications"] == 1
    assert Alert.objects.get().status == "resolved"
    assert AlertGroup.objects.get().status == "resolved"


def test_the_key_may_travel_in_the_path_and_checks_make_a_group_per_host(
    alpha, client, ingest_key
):
    key = ingest_key(alpha)
    IngestSourceFactory(
        name="checks", kind="generic_json", ingest_key_prefix=key[:10],
        config={**CHECKS_MAPPING, "labels": {"alertname": "name", "host": "host"}},
    )
    body = {"checks": [
        {"name": "disk", "host": "db-1", "state": "critical", "since": "2026-11-30T09:00:00Z"},
        {"name": "disk", "host": "db-2", "state": "warning", "since": "2026-11-30T09:30:00Z"},
    ]}

    response = post(client, body, path=f"/api/v1/sources/checks/{key}/")

    assert response.json() == {"status": "ok", "alerts": 2, "notifications": 0, "groups": 2}
    assert sorted(AlertGroup.objects.values_list("group_key", flat=True)) == [
        'source/checks:{host="db-1"}', 'source/checks:{host="db-2"}',
    ]


def test_a_body_the_mapping_cannot_read_is_a_400_naming_the_field_and_is_logged(
    alpha, client, ingest_key, caplog
):
    key = ingest_key(alpha)
    cloudwatch_source(key)
    secret_reason = "customer card 4111-1111-1111-1111 " * 50
    body = {**cloudwatch_alarm(), "AlarmName": 42, "NewStateReason": secret_reason}

    with caplog.at_level(logging.WARNING, logger="alerting.sources.generic_json_ingest"):
        response = post(client, body, key, path="/api/v1/sources/cloudwatch/")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "labels.alertname": [
            "alerts[0].labels.alertname is a number, not a string (wrap it in to_string())"
        ]
    }
    assert "4111" not in response.content.decode()
    assert "cloudwatch" in caplog.text and "labels.alertname" in caplog.text
    assert "4111" not in caplog.text
    assert Alert.objects.count() == 0


def test_another_tenants_source_and_a_source_of_another_key_are_not_found(
    alpha, beta, client, ingest_key
):
    alpha_key = ingest_key(alpha)
    cloudwatch_source(alpha_key)
    other_alpha_key = ingest_key(alpha)
    beta_key = ingest_key(beta)

    as_beta = post(client, cloudwatch_alarm(), beta_key, path="/api/v1/sources/cloudwatch/")
    other_key = post(
        client, cloudwatch_alarm(), other_alpha_key, path="/api/v1/sources/cloudwatch/"
    )
    no_key = post(client, cloudwatch_alarm(), path="/api/v1/sources/cloudwatch/")

    assert (as_beta.status_code, other_key.status_code, no_key.status_code) == (404, 404, 401)
    assert Alert.objects.count() == 0
    with keep_schema():
        connection.set_tenant(beta)
        assert Alert.objects.count() == 0


def test_a_disabled_source_is_not_found_and_a_body_over_the_limit_is_refused(
    alpha, client, ingest_key, settings
):
    key = ingest_key(alpha)
    cloudwatch_source(key, enabled=False)
    checks_key = ingest_key(alpha)  # a key has at most one generic JSON source
    IngestSourceFactory(
        name="checks", kind="generic_json", ingest_key_prefix=checks_key[:10],
        config=CHECKS_MAPPING,
    )
    settings.HERALD_INGEST_MAX_BODY_BYTES = 1000

    disabled = post(client, cloudwatch_alarm(), key, path="/api/v1/sources/cloudwatch/")
    too_big = post(
        client, {"checks": [{"name": "x" * 2000}]}, checks_key, path="/api/v1/sources/checks/"
    )
    not_json = post(client, "{not json", checks_key, path="/api/v1/sources/checks/")

    assert disabled.status_code == 404
    assert too_big.status_code == 413
    assert not_json.status_code == 400
