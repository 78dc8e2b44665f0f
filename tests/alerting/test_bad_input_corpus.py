"""A corpus of hostile or broken input: each gets its precise answer, never a 500."""

from __future__ import annotations

import json
import secrets

import pytest
from django.test import Client

from alerting.models import Alert, AlertGroup
from receivers.delivery import notification_deliver
from receivers.models import Notification, NotificationState
from tests.factories import NotificationFactory, ReceiverFactory, WebhookPayloadFactory
from tests.ingest import keep_schema, post, public_client


def stored() -> tuple[int, int]:
    return AlertGroup.objects.count(), Alert.objects.count()


def payload(**changes):
    body = WebhookPayloadFactory()
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[leaf] = value
    return body


CORPUS = {
    "malformed JSON": ('{"version": "4", "alerts": [', 400),
    "deeply nested arrays": ("[" * 100_000 + "]" * 100_000, 400),
    "deeply nested objects": ('{"a":' * 50_000 + "1" + "}" * 50_000, 400),
    "invalid UTF-8": (b'{"version": "4\xff\xfe"}', 400),
    "JSON that is not an object": ("[]", 400),
    "empty body": ("", 400),
    "receiver longer than its column": (payload(receiver="r" * 256), 400),
    "random groupKey past the index limit": (payload(groupKey=secrets.token_hex(1200)), 400),
    "truncatedAlerts past 32 bits": (payload(truncatedAlerts=2**40), 400),
    "NUL in a label value": (payload(**{"alerts.0.labels.alertname": "a\x00b"}), 400),
    "lone surrogate in an annotation": (payload(**{"alerts.0.annotations.summary": "\ud800"}), 400),
    "startsAt that is not a time": (payload(**{"alerts.0.startsAt": "soon"}), 400),
    "a giant label value": (payload(**{"alerts.0.labels.blob": "v" * 1_000_000}), 200),
    "a label name of 10,000 characters": (payload(**{"alerts.0.labels.x" + "y" * 9999: "v"}), 200),
}


@pytest.mark.parametrize(("body", "status"), CORPUS.values(), ids=CORPUS.keys())
def test_each_bad_input_gets_its_precise_answer(alpha, ingest_key, body, status):
    response = post(public_client(), body, ingest_key(alpha))

    assert response.status_code == status, response.content[:300]
    assert stored() == ((1, 1) if status == 200 else (0, 0))


@pytest.mark.parametrize(
    "credentials",
    ["Bearer hk_" + "x" * 43, "Bearer ", "Token abc", "Bearer ht_readtoken", "Basic YTpi"],
)
def test_wrong_keys_are_401_and_store_nothing(alpha, credentials):
    with keep_schema():
        response = Client(HTTP_HOST="127.0.0.1").post(
            "/api/v1/alertmanager/", data=json.dumps(WebhookPayloadFactory()),
            content_type="application/json", HTTP_AUTHORIZATION=credentials,
        )
    assert response.status_code == 401
    assert stored() == (0, 0)


def test_another_tenants_key_stores_into_that_tenant_only(alpha, beta, ingest_key):
    assert post(public_client(), WebhookPayloadFactory(), ingest_key(beta)).status_code == 200
    assert stored() == (0, 0)  # alpha's schema


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.8/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://[::1]/hook",
        "http://localhost:9/hook",
    ],
)
def test_webhooks_into_private_networks_fail_with_a_recorded_reason(alpha, url):
    alpha.allow_private_targets = False
    notification = NotificationFactory(receiver=ReceiverFactory(secrets={"url": url}))

    notification_deliver(notification_id=notification.id)

    notification.refresh_from_db()
    assert notification.state == NotificationState.FAILED
    assert "private or loopback" in notification.last_error
    assert url not in notification.last_error  # URLs may carry tokens


def test_template_syntax_in_alert_data_stays_text(alpha, httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")
    slack = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for("/slack")})
    injected = "{{ 7777*1111 }} {{ ''.__class__.__mro__ }} {% for x in range(9) %}x{% endfor %}"
    notification = NotificationFactory(
        receiver=slack,
        alerts=[{**WebhookPayloadFactory()["alerts"][0],
                 "annotations": {"summary": injected}}],
    )

    notification_deliver(notification_id=notification.id)

    body = httpserver.log[0][0].get_data(as_text=True)
    assert "{{ 7777*1111 }}" in body and "8640247" not in body
    assert "mro" in body and "<class" not in body
    assert Notification.objects.get(id=notification.id).state == NotificationState.DELIVERED
