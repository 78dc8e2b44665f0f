"""PagerDuty Events API v2: trigger and resolve with one dedup_key, to a real local server."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from receivers.message_rendering import message_render
from receivers.messages import group_dedup_key
from receivers.transports import TransportError
from receivers.transports.pagerduty import SUMMARY_LIMIT, PagerDutySettings, pagerduty_event
from tests.receivers.helpers import (
    MESSAGES,
    alert,
    alert_message,
    assert_whole_text,
    transport,
)

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
STATUSES = ("firing", "resolved")


def event_for(message, **config):
    settings = PagerDutySettings.parse(config=config, secrets={"routing_key": ROUTING_KEY})
    rendered = message_render(channel="pagerduty", message=message)
    return pagerduty_event(rendered=rendered, message=message, settings=settings)


def test_a_firing_group_triggers_with_summary_source_severity_and_details():
    event = event_for(alert_message())

    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert len(event["dedup_key"]) == 64
    payload = event["payload"]
    assert payload["summary"].startswith("[FIRING:2] HighLatency")
    assert payload["source"] == "alertmanager.example"
    assert payload["severity"] == "critical"
    assert payload["custom_details"]["num_firing"] == 2
    assert payload["custom_details"]["firing"][0]["instance"] == "web-1:9100"
    assert {link["text"] for link in event["links"]} >= {"Source", "Silence"}
    assert event["client"] == "Herald"
    assert event["client_url"] == "http://alertmanager.example:9093"


def test_resolve_and_acknowledge_reuse_the_groups_dedup_key():
    trigger = event_for(alert_message())
    resolve = event_for(alert_message("resolved"))
    acknowledge = event_for(alert_message(acknowledged=True))

    assert trigger["dedup_key"] == resolve["dedup_key"] == acknowledge["dedup_key"]
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "dedup_key": trigger["dedup_key"],
        "event_action": "resolve",
    }
    assert acknowledge["event_action"] == "acknowledge"


def test_the_dedup_key_differs_between_groups_and_tenants():
    one = group_dedup_key(alert_message())
    assert group_dedup_key(alert_message(group_key="{}:{x}")) != one
    assert group_dedup_key(alert_message(tenant_slug="beta")) != one


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", "critical"),
        ("high", "error"),
        ("warning", "warning"),
        ("info", "info"),
        ("whatever", "error"),
    ],
)
def test_severities_map_onto_pagerdutys_four(label, severity):
    message = alert_message(common_labels={"alertname": "X", "severity": label})
    assert event_for(message)["payload"]["severity"] == severity


@pytest.mark.parametrize(
    ("label", "severity"),
    [("crit", "critical"), ("P1", "critical"), (" Fatal ", "critical"), ("err", "error"),
     ("warn", "warning"), ("minor", "warning"), ("informational", "info"), ("low", "info")],
)
def test_an_alias_reaches_pagerduty_as_its_level(label, severity):
    message = alert_message(common_labels={"alertname": "X", "severity": label})
    assert event_for(message)["payload"]["severity"] == severity


def test_without_a_common_severity_the_worst_firing_alias_decides():
    message = alert_message(
        common_labels={"alertname": "X"},
        alerts=[alert(n=1, labels={"severity": "warn"}), alert(n=2, labels={"severity": "crit"})],
    )
    assert event_for(message)["payload"]["severity"] == "critical"


@pytest.mark.parametrize("kind", MESSAGES)
def test_every_summary_fits_its_limit(kind):
    summary = event_for(MESSAGES[kind]())["payload"]["summary"]
    assert len(summary) <= SUMMARY_LIMIT and "\n" not in summary
    assert_whole_text(summary)


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_posts_the_event_to_the_configured_url(httpserver, kind, status):
    httpserver.expect_oneshot_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "x"}, status=202
    )
    message = MESSAGES[kind](status)
    pagerduty = transport(
        "pagerduty",
        config={"events_url": httpserver.url_for("/v2/enqueue")},
        secrets={"routing_key": ROUTING_KEY},
    )

    result = pagerduty.send(message)

    assert result.http_status == 202
    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.data)
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == ("resolve" if status == "resolved" else "trigger")
    assert body["dedup_key"] == group_dedup_key(message)
    assert len(request.data) <= 512 * 1024


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (429, False), (500, False), (503, False)]
)
def test_invalid_events_fail_and_throttling_is_retried(httpserver, status, permanent):
    httpserver.expect_request("/v2/enqueue").respond_with_response(
        Response(
            json.dumps({"status": "invalid event", "errors": ["'payload.summary' is missing"]}),
            status=status,
            headers={"Retry-After": "12"} if status == 429 else {},
        )
    )
    pagerduty = transport(
        "pagerduty",
        config={"events_url": httpserver.url_for("/v2/enqueue")},
        secrets={"routing_key": ROUTING_KEY},
    )
    with pytest.raises(TransportError) as failure:
        pagerduty.send(alert_message())
    assert failure.value.permanent is permanent
    assert failure.value.http_status == status
    if status == 429:
        assert failure.value.retry_after == 12.0
