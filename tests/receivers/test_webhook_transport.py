"""The generic webhook sends Alertmanager's JSON to a real local HTTP server."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from werkzeug import Response

from receivers.delivery import notification_deliver
from receivers.messages import AlertMessage
from receivers.services import receiver_settings_validate
from receivers.transports import TransportError, transport_class
from receivers.transports.http import guard_url
from receivers.transports.webhook import webhook_payload
from tests.factories import NotificationFactory, ReceiverFactory, WebhookAlertFactory


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
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
        "actions",  # Herald's: the signed action pages, empty here (the message offers none)
    }
    assert payload["actions"] == []


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


def only_request(httpserver, path):
    # A slow request of an earlier test may still land in the log: pick ours.
    [request] = [request for request, _ in httpserver.log if request.path == path]
    return request


SIGNING_SECRET = "whsec_9f8e7d6c5b4a"


def test_a_signed_send_carries_a_verifiable_hmac_over_timestamp_and_body(httpserver):
    import hashlib
    import hmac
    import time

    httpserver.expect_oneshot_request("/signed", method="POST").respond_with_data("ok")
    hook = transport_class("webhook")(
        config={},
        secrets={"url": httpserver.url_for("/signed"), "signing_secret": SIGNING_SECRET},
        allow_private=True,
    )

    hook.send(message())

    request = only_request(httpserver, "/signed")
    timestamp = request.headers["X-Herald-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    expected = hmac.new(
        SIGNING_SECRET.encode(), timestamp.encode() + b"." + request.data, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Herald-Signature"] == f"sha256={expected}"
    assert json.loads(request.data)["version"] == "4"


def test_the_signature_is_a_pure_function_of_secret_time_and_body():
    from receivers.transports.webhook import webhook_signature

    one = webhook_signature(secret="k", timestamp="1700000000", body=b"{}")
    assert one == webhook_signature(secret="k", timestamp="1700000000", body=b"{}")
    assert one != webhook_signature(secret="k", timestamp="1700000001", body=b"{}")
    assert one != webhook_signature(secret="k", timestamp="1700000000", body=b"{ }")


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_a_templated_body_is_sent_with_its_content_type_and_authorization(httpserver, status):
    httpserver.expect_oneshot_request(
        "/signed",
        method="POST",
        headers={"Content-Type": "text/plain", "Authorization": "Bearer t0ken-abc", "X-A": "1"},
    ).respond_with_data("ok")
    hook = transport_class("webhook")(
        config={
            "body_template": "{{ status|upper }} {{ alertname }}: {{ alerts|length }} alert(s)",
            "content_type": "text/plain",
            "headers": {"X-A": "1"},
        },
        secrets={"url": httpserver.url_for("/signed"), "authorization": "Bearer t0ken-abc"},
        allow_private=True,
    )

    hook.send(message(status=status))

    request = only_request(httpserver, "/signed")
    assert request.data.decode() == f"{status.upper()} DiskFull: 1 alert(s)"


def test_a_json_body_template_can_use_tojson(httpserver):
    httpserver.expect_oneshot_request("/signed").respond_with_data("ok")
    hook = transport_class("webhook")(
        config={"body_template": '{"text": {{ (alertname ~ " ü <&>")|tojson }}}'},
        secrets={"url": httpserver.url_for("/signed")},
        allow_private=True,
    )
    hook.send(message())
    request = only_request(httpserver, "/signed")
    assert json.loads(request.data) == {"text": "DiskFull ü <&>"}


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"body_template": "{% if %}"}, "body_template"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"headers": {"X-A": "a\r\nInjected: 1"}}, "headers"),
        ({"url": "http://example.com"}, "url"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_settings_are_refused_permanently_and_named(config, problem):
    with pytest.raises(TransportError) as failure:
        transport_class("webhook")(
            config=config, secrets={"url": "https://hooks.example.com/x"}, allow_private=True
        )
    assert failure.value.permanent is True
    assert problem in failure.value.message


def test_a_body_template_that_fails_only_when_rendered_is_refused_on_save_and_gives_way_at_send(
    httpserver, alpha
):
    unsafe = {"body_template": "{{ ''.__class__ }}", "content_type": "text/plain"}
    with pytest.raises(ValidationError) as refused:
        receiver_settings_validate(
            kind="webhook", config=unsafe, secrets={"url": httpserver.url_for("/x")}
        )
    assert "not allowed in templates" in str(refused.value.message_dict["body_template"])
    # Stored before the check existed: the alert still goes out, as Alertmanager's JSON.
    httpserver.expect_request("/x").respond_with_data("ok")
    receiver = ReceiverFactory(kind="webhook", config=unsafe,
                               secrets={"url": httpserver.url_for("/x")})
    notification = NotificationFactory(receiver=receiver)
    assert notification_deliver(notification_id=notification.id).outcome == "delivered"
    (request,) = [request for request, _ in httpserver.log]
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.data)["version"] == "4"
    notification.refresh_from_db()
    assert notification.state == "delivered"
    assert notification.last_error.startswith("the body template failed (line 1: not allowed")
    assert notification.delivery_attempts.get().error == notification.last_error


def test_a_body_template_slow_only_for_big_alert_groups_is_refused_on_save(httpserver, alpha):
    quadratic = (
        "{% for a in alerts %}{% for b in alerts %}{% for c in alerts %}{% endfor %}"
        "{% endfor %}{% endfor %}{{ alerts|length }}"
    )
    with pytest.raises(ValidationError) as refused:
        receiver_settings_validate(
            kind="webhook",
            config={"body_template": quadratic},
            secrets={"url": httpserver.url_for("/x")},
        )
    assert "with the sample 'many alerts'" in str(refused.value.message_dict["body_template"])


ROUTE_KEY = "rk-5e4d3c2b1a"


def test_header_values_are_templated_with_the_message(httpserver):
    httpserver.expect_oneshot_request(
        "/templated",
        headers={
            "X-Alert": "DiskFull/firing",
            "X-Route": f"{ROUTE_KEY}.diskfull",
            "X-Literal": "{not a template}",
        },
    ).respond_with_data("ok")
    hook = transport_class("webhook")(
        config={"headers": {
            "X-Alert": "{{ alertname }}/{{ status }}",
            "X-Literal": "{not a template}",
        }},
        secrets={
            "url": httpserver.url_for("/templated"),
            "header:X-Route": ROUTE_KEY + ".{{ alertname|lower }}",
        },
        allow_private=True,
    )

    hook.send(message())

    assert only_request(httpserver, "/templated").headers["X-Alert"] == "DiskFull/firing"


@pytest.mark.parametrize(
    ("config", "secrets", "problem"),
    [
        ({"headers": {"X-A": "{{ ''.__class__ }}"}}, {}, "not allowed in templates"),
        ({"headers": {"X-A": "{% if %}"}}, {}, "template error at line 1"),
        ({}, {"header:X-Key": ROUTE_KEY + "{{ ''.__class__ }}"}, "not allowed in templates"),
    ],
    ids=["unsafe", "syntax", "secret-unsafe"],
)
def test_a_header_template_that_cannot_render_is_refused_on_save(
    alpha, config, secrets, problem
):
    with pytest.raises(ValidationError) as refused:
        receiver_settings_validate(
            kind="webhook", config=config, secrets={"url": "https://93.184.216.34/x", **secrets}
        )
    assert problem in str(refused.value)
    assert ROUTE_KEY not in str(refused.value)


def test_a_header_that_fails_at_send_is_left_out_and_shown_on_the_notification(
    httpserver, alpha
):
    # Stored before the check existed (the factory saves as is).
    receiver = ReceiverFactory(
        kind="webhook",
        config={"headers": {
            "X-Team": "sre",
            "X-Broken": "{{ ''.__class__ }}",
            "X-Injected": "{{ alertname ~ '\\r\\nX-Evil: 1' }}",
        }},
        secrets={"url": httpserver.url_for("/x"), "header:X-Key": ROUTE_KEY + "{{ ''.__class__ }}"},
    )
    httpserver.expect_request("/x").respond_with_data("ok")
    notification = NotificationFactory(receiver=receiver)

    assert notification_deliver(notification_id=notification.id).outcome == "delivered"

    (request,) = [request for request, _ in httpserver.log]
    assert request.headers["X-Team"] == "sre"
    for left_out in ("X-Broken", "X-Injected", "X-Evil", "X-Key"):
        assert left_out not in request.headers
    notification.refresh_from_db()
    assert notification.state == "delivered"
    assert "the header 'X-Broken' failed to render (line 1: not allowed" in notification.last_error
    assert "the header 'X-Injected' rendered to a value with a line break; sent without it" in (
        notification.last_error
    )
    assert "the secret header 'X-Key' failed to render (line 1: not allowed" in (
        notification.last_error
    )
    assert ROUTE_KEY not in notification.last_error
