"""The generic webhook sends Alertmanager's JSON to a real local HTTP server."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from receivers.messages import AlertMessage
from receivers.transports import TransportError, transport_class
from receivers.transports.http import guard_url
from receivers.transports.webhook import webhook_payload
from tests.factories import WebhookAlertFactory


def message(**overrides) -> AlertMessage:
    fields = {
        "notification_id": 1,
        "tenant_slug": "alpha",
        "receiver_name": "ops-hook",
        "status": "firing",
        "group_key": '{}:{alertname="DiskFull"}',
        "group_labels": {"alertname": "DiskFull"},
        "common_labels": {"alertname": "DiskFull"},
        "common_annotations": {},
        "external_url": "http://alertmanager.example:9093",
        "truncated_alerts": 0,
        "alerts": [WebhookAlertFactory(labels={"alertname": "DiskFull", "host": "db-ü"})],
    }
    return AlertMessage(**{**fields, **overrides})


def webhook(url: str, allow_private: bool = True, **config):
    return transport_class("webhook")(
        config=config, secrets={"url": url}, allow_private=allow_private
    )


def test_the_payload_has_alertmanagers_shape():
    payload = webhook_payload(message())
    assert payload["version"] == "4"
    assert payload["receiver"] == "ops-hook"
    assert payload["alerts"][0]["labels"]["host"] == "db-ü"
    assert set(payload) == {
        "version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
        "commonLabels", "commonAnnotations", "externalURL", "alerts",
    }


def test_a_send_posts_json_with_the_configured_headers(httpserver):
    httpserver.expect_oneshot_request(
        "/hook", method="POST", headers={"X-Team": "sre", "Content-Type": "application/json"}
    ).respond_with_data("ok")

    sent = message()
    result = webhook(httpserver.url_for("/hook"), headers={"X-Team": "sre"}).send(sent)

    assert result.http_status == 200
    request, _ = httpserver.log[0]
    assert json.loads(request.data) == webhook_payload(sent)


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [
        (500, {}, False, None),
        (503, {"Retry-After": "30"}, False, 30.0),
        (429, {"Retry-After": "7"}, False, 7.0),
        (400, {}, True, None),
        (401, {}, True, None),
        (404, {}, True, None),
    ],
)
def test_vendor_errors_say_whether_to_retry(httpserver, status, headers, permanent, retry_after):
    httpserver.expect_request("/hook").respond_with_response(
        Response("upstream says no", status=status, headers=headers)
    )

    with pytest.raises(TransportError) as failure:
        webhook(httpserver.url_for("/hook")).send(message())

    assert failure.value.permanent is permanent
    assert failure.value.http_status == status
    assert failure.value.retry_after == retry_after
    assert "upstream says no" in failure.value.message


def test_an_unreachable_receiver_is_worth_retrying(httpserver):
    url = httpserver.url_for("/hook")
    httpserver.stop()
    try:
        with pytest.raises(TransportError) as failure:
            webhook(url).send(message())
        assert failure.value.permanent is False
    finally:
        httpserver.start()


def test_a_slow_receiver_times_out(httpserver):
    import time

    httpserver.expect_request("/slow").respond_with_handler(
        lambda request: time.sleep(1.0) or Response("late")
    )
    with pytest.raises(TransportError) as failure:
        webhook(httpserver.url_for("/slow"), timeout_seconds=0.2).send(message())
    assert failure.value.permanent is False
    assert "in time" in failure.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
    ],
)
def test_private_targets_are_refused_unless_the_tenant_allows_them(url):
    with pytest.raises(TransportError) as failure:
        guard_url(url, allow_private=False)
    assert failure.value.permanent is True
    assert url not in failure.value.message  # URLs may carry tokens
    guard_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x", "not a url"])
def test_only_http_urls_are_sent_to(url):
    with pytest.raises(TransportError) as failure:
        guard_url(url, allow_private=True)
    assert failure.value.permanent is True
