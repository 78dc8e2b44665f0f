"""Alertmanager posts its webhook; Herald stores it in the right tenant or says why not."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from alerting.models import Alert, AlertGroup
from receivers.models import Notification
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST, post, public_client


@pytest.fixture
def client() -> Client:
    return public_client()


def stored_counts() -> tuple[int, int, int]:
    return AlertGroup.objects.count(), Alert.objects.count(), Notification.objects.count()


def test_a_firing_alert_is_stored_with_a_notification_per_receiver(alpha, client, ingest_key):
    ReceiverFactory.create_batch(2)
    alert = WebhookAlertFactory(annotations={"summary": "Disk full ☠"})
    payload = WebhookPayloadFactory(alerts=[alert])

    response = post(client, payload, ingest_key(alpha))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "alerts": 1, "notifications": 2}
    stored = Alert.objects.get()
    assert stored.fingerprint == alert["fingerprint"]
    assert stored.labels == alert["labels"]
    assert stored.annotations == {"summary": "Disk full ☠"}
    assert stored.ends_at is None  # Alertmanager's zero time means "no end"
    assert stored.generator_url == alert["generatorURL"]
    group = AlertGroup.objects.get()
    assert group.group_key == payload["groupKey"]
    assert group.last_payload == payload
    assert set(Notification.objects.values_list("state", flat=True)) == {"pending"}


def test_the_key_may_travel_in_the_path_for_senders_without_headers(alpha, client, ingest_key):
    response = post(client, WebhookPayloadFactory(), path=f"{INGEST}{ingest_key(alpha)}/")
    assert response.status_code == 200
    assert Alert.objects.count() == 1


def test_the_same_payload_twice_notifies_once(alpha, client, ingest_key):
    ReceiverFactory()
    key = ingest_key(alpha)
    payload = WebhookPayloadFactory()

    first, retry = post(client, payload, key), post(client, payload, key)

    assert (first.json()["notifications"], retry.json()["notifications"]) == (1, 0)
    assert stored_counts() == (1, 1, 1)


def test_resolve_then_fire_again_notifies_each_change(alpha, client, ingest_key):
    ReceiverFactory()
    key = ingest_key(alpha)
    alert = WebhookAlertFactory()
    fire = WebhookPayloadFactory(alerts=[alert])
    resolve = {**fire, "status": "resolved", "alerts": [
        {**alert, "status": "resolved", "endsAt": "2026-11-23T10:05:00Z"}
    ]}
    refire = {**fire, "alerts": [{**alert, "startsAt": "2026-11-23T11:00:00Z"}]}

    counts = [post(client, p, key).json()["notifications"] for p in (fire, resolve, refire)]

    assert counts == [1, 1, 1]
    assert list(Notification.objects.order_by("id").values_list("status", flat=True)) == [
        "firing", "resolved", "firing",
    ]
    assert Alert.objects.get().status == "firing"


def test_a_resolve_for_an_alert_never_seen_is_stored_but_notifies_nobody(
    alpha, client, ingest_key
):
    ReceiverFactory()
    resolved = WebhookAlertFactory(status="resolved", endsAt="2026-11-23T10:05:00Z")

    response = post(client, WebhookPayloadFactory(status="resolved", alerts=[resolved]),
                    ingest_key(alpha))

    assert response.json()["notifications"] == 0
    assert Alert.objects.get().status == "resolved"
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer hk_unknown", "Basic abc"])
def test_missing_or_unknown_keys_get_401_and_store_nothing(alpha, client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = post(client, WebhookPayloadFactory(), **headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "A valid ingest key is required."}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored_counts() == (0, 0, 0)


def test_a_revoked_key_is_refused(alpha, client):
    from tenants.services import hashed_key_revoke, ingest_key_create

    ingest_key_row, key = ingest_key_create(tenant=alpha, name="old")
    hashed_key_revoke(key=ingest_key_row)
    assert post(client, WebhookPayloadFactory(), key).status_code == 401


@pytest.mark.parametrize(
    ("mutate", "bad_field"),
    [
        (lambda p: p.pop("groupKey"), "groupKey"),
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p.update(status="burning"), "status"),
        (lambda p: p.update(alerts=[]), "alerts"),
        (lambda p: p.update(commonLabels={"a": 1.5}), "commonLabels"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts"),
        (lambda p: p["alerts"][0].pop("fingerprint"), "alerts"),
        (lambda p: p["alerts"][0].update(labels="alertname=X"), "alerts"),
        (lambda p: p["alerts"].append(dict(p["alerts"][0])), "alerts"),
        (lambda p: p["alerts"][0]["labels"].update(bad="nul\x00byte"), "alerts"),
    ],
    ids=[
        "no groupKey", "version 3", "unknown status", "no alerts", "label not a string",
        "bad startsAt", "no fingerprint", "labels not a map", "fingerprint twice", "NUL byte",
    ],
)
def test_a_malformed_payload_gets_400_naming_the_field(alpha, client, ingest_key, mutate,
                                                       bad_field):
    payload = WebhookPayloadFactory()
    mutate(payload)

    response = post(client, payload, ingest_key(alpha))

    assert response.status_code == 400
    assert bad_field in response.json()
    assert stored_counts() == (0, 0, 0)


def test_an_alert_error_names_its_index_and_field(alpha, client, ingest_key):
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory(), WebhookAlertFactory()])
    payload["alerts"][1]["startsAt"] = "not a time"

    errors = post(client, payload, ingest_key(alpha)).json()

    assert list(errors["alerts"]) == ["1"]
    assert "startsAt" in errors["alerts"]["1"]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"a string"', b"\xff\xfe{}"])
def test_a_body_that_is_not_a_json_object_gets_400(alpha, client, ingest_key, body):
    response = post(client, body, ingest_key(alpha))
    assert response.status_code == 400
    assert stored_counts() == (0, 0, 0)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_postgresql_cannot_store_get_400_not_500(alpha, client, ingest_key, number):
    body = json.dumps(WebhookPayloadFactory()).replace('"version"', f'"extra": {number}, "version"')
    response = post(client, body, ingest_key(alpha))
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert stored_counts() == (0, 0, 0)


def test_the_payload_is_kept_as_received(alpha, client, ingest_key):
    payload = WebhookPayloadFactory(extra={"big": 10**30, "ratio": 0.25, "nested": [None, True]})
    body = json.dumps(payload, indent=1)  # any spacing: only the content counts

    assert post(client, body, ingest_key(alpha)).status_code == 200

    assert AlertGroup.objects.get().last_payload == payload


def test_the_audit_trail_keeps_the_body_byte_for_byte(alpha, client, ingest_key):
    payload = WebhookPayloadFactory()
    body = json.dumps({"zeta": 1, **payload, "alpha": [1.50, "\u00e9"]}, indent=3)

    assert post(client, body, ingest_key(alpha)).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT last_payload::text FROM alerting_alertgroup")
        assert cursor.fetchone()[0] == body


def test_a_body_with_a_byte_order_mark_is_read_as_json(alpha, client, ingest_key):
    """msgspec refuses the mark; the json fallback reads it, as it always did."""
    payload = WebhookPayloadFactory()
    body = b"\xef\xbb\xbf" + json.dumps(payload).encode()

    assert post(client, body, ingest_key(alpha)).status_code == 200

    assert AlertGroup.objects.get().last_payload == payload


def test_a_non_json_content_type_gets_415(alpha, client, ingest_key):
    response = post(client, "version=4", ingest_key(alpha), content_type="text/plain")
    assert response.status_code == 415


def test_a_body_over_the_limit_gets_413(alpha, client, ingest_key, settings):
    settings.HERALD_INGEST_MAX_BODY_BYTES = 2048
    payload = WebhookPayloadFactory()
    payload["commonAnnotations"] = {"description": "x" * 4096}

    response = post(client, payload, ingest_key(alpha))

    assert response.status_code == 413
    assert stored_counts() == (0, 0, 0)


def test_unknown_fields_are_ignored(alpha, client, ingest_key):
    payload = WebhookPayloadFactory(extra="from a newer Alertmanager")
    payload["alerts"][0]["newField"] = 1
    assert post(client, payload, ingest_key(alpha)).status_code == 200


def test_a_tenant_over_its_ingest_rate_gets_429_with_retry_after(alpha, client, ingest_key):
    alpha.ingest_rate_limit = "3/minute"
    alpha.save(update_fields=["ingest_rate_limit"])
    key = ingest_key(alpha)

    answers = [post(client, WebhookPayloadFactory(), key) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert Alert.objects.count() == 3


def test_ingest_goes_on_when_the_rate_limit_storage_is_down(alpha, client, ingest_key, settings,
                                                           caplog):
    settings.HERALD_RATE_LIMIT_STORAGE_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    response = post(client, WebhookPayloadFactory(), ingest_key(alpha))

    assert response.status_code == 200
    assert "rate limit not enforced" in caplog.text


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p["alerts"][0]["labels"].update({"bad\x00name": "x"}),
        lambda p: p["alerts"][0]["annotations"].update({"\ud800": "x"}),
        lambda p: p["alerts"][0]["labels"].update({"": "empty name"}),
    ],
    ids=["NUL in a label name", "surrogate in a name", "empty name"],
)
def test_what_postgresql_cannot_store_gets_400_not_500(alpha, client, ingest_key, mutate):
    payload = WebhookPayloadFactory()
    mutate(payload)
    response = post(client, payload, ingest_key(alpha))
    assert response.status_code == 400
    assert stored_counts() == (0, 0, 0)


def test_unknown_fields_with_unstorable_text_are_kept_readable(alpha, client, ingest_key):
    payload = WebhookPayloadFactory(extra={"note\x00": "nul\x00 and \ud800 surrogate"})

    assert post(client, payload, ingest_key(alpha)).status_code == 200

    assert AlertGroup.objects.get().last_payload["extra"] == {
        "note\ufffd": "nul\ufffd and \ufffd surrogate"
    }
