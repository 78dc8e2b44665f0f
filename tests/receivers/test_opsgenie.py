"""Opsgenie: create by alias with GenieKey auth, close by alias, to a real local server."""

from __future__ import annotations

import json

import pytest

from receivers.message_rendering import message_render
from receivers.messages import group_dedup_key
from receivers.transports import SettingsError
from receivers.transports.opsgenie import (
    DESCRIPTION_LIMIT,
    DETAILS_LIMIT,
    MAX_TAGS,
    MESSAGE_LIMIT,
    TAG_LIMIT,
    OpsgenieSettings,
    opsgenie_request,
)
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport

API_KEY = "0a1b2c3d-genie-key-4e5f"
STATUSES = ("firing", "resolved")


def request_for(message, **config):
    settings = OpsgenieSettings.parse(config=config, secrets={"api_key": API_KEY})
    rendered = message_render(channel="opsgenie", message=message)
    return opsgenie_request(rendered=rendered, message=message, settings=settings)


def test_a_firing_group_creates_an_alert_with_alias_priority_tags_and_details():
    path, body = request_for(
        alert_message(), tags=["prod"], responders=[{"type": "team", "name": "sre"}]
    )

    assert path == "/v2/alerts"
    assert body["message"] == "[FIRING:2] HighLatency"
    assert body["alias"] == group_dedup_key(alert_message())
    assert body["priority"] == "P1"
    assert body["tags"][:2] == ["prod", "severity:critical"]
    assert "alertname:HighLatency" in body["tags"]
    assert body["details"]["severity"] == "critical"
    assert body["details"]["link_silence"].startswith("http://alertmanager.example:9093/#/")
    assert body["responders"] == [{"type": "team", "name": "sre"}]
    assert body["source"] == "Herald"
    assert "p99 latency on web-1 is 2.4s" in body["description"]


def test_a_resolved_group_closes_the_alert_by_its_alias():
    path, body = request_for(alert_message("resolved"))
    alias = group_dedup_key(alert_message())
    assert path == f"/v2/alerts/{alias}/close?identifierType=alias"
    assert body["source"] == "Herald" and "RESOLVED" in body["note"]


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("critical", "P1"), ("error", "P2"), ("warning", "P3"), ("info", "P4"), ("none", "P5")],
)
def test_priority_follows_severity(severity, priority):
    message = alert_message(common_labels={"alertname": "X", "severity": severity})
    assert request_for(message)[1]["priority"] == priority


def test_priorities_can_be_remapped():
    _, body = request_for(alert_message(), priorities={"critical": "P2"})
    assert body["priority"] == "P2"


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("crit", "P1"), ("page", "P1"), ("high", "P2"), ("WARN", "P3"), ("notice", "P4"),
     ("debug", "P5"), ("sev-banana", "P5")],
)
def test_an_alias_gets_its_levels_priority(severity, priority):
    message = alert_message(common_labels={"alertname": "X", "severity": severity})
    assert request_for(message)[1]["priority"] == priority


def test_the_severity_tag_uses_the_canonical_name():
    message = alert_message(common_labels={"alertname": "X", "severity": "crit"})
    assert "severity:critical" in request_for(message)[1]["tags"]


def test_a_remapped_priority_may_name_the_level_by_an_alias():
    message = alert_message(common_labels={"alertname": "X", "severity": "P1"})
    assert request_for(message, priorities={"crit": "P2"})[1]["priority"] == "P2"


@pytest.mark.parametrize("kind", MESSAGES)
def test_every_alert_fits_opsgenies_limits(kind):
    _, body = request_for(MESSAGES[kind](), tags=[f"t{n}" * 30 for n in range(25)][:20])
    assert len(body["message"]) <= MESSAGE_LIMIT
    assert len(body["description"]) <= DESCRIPTION_LIMIT
    assert len(body["tags"]) <= MAX_TAGS and all(len(t) <= TAG_LIMIT for t in body["tags"])
    assert sum(len(k) + len(v) for k, v in body["details"].items()) <= DETAILS_LIMIT
    assert_whole_text(body["message"])
    assert_whole_text(body["description"])


def test_the_eu_region_has_its_own_base_url():
    settings = OpsgenieSettings.parse(config={"region": "eu"}, secrets={"api_key": API_KEY})
    assert settings.base_url == "https://api.eu.opsgenie.com"


def test_a_responder_must_be_named():
    with pytest.raises(SettingsError, match=r"responders\.0"):
        OpsgenieSettings.parse(
            config={"responders": [{"type": "team"}]}, secrets={"api_key": API_KEY}
        )


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_send_authenticates_with_the_genie_key(httpserver, kind, status):
    message = MESSAGES[kind](status)
    alias = group_dedup_key(message)
    path = "/v2/alerts" if status == "firing" else f"/v2/alerts/{alias}/close"
    query = "" if status == "firing" else "identifierType=alias"
    httpserver.expect_oneshot_request(
        path,
        method="POST",
        query_string=query,
        headers={"Authorization": f"GenieKey {API_KEY}", "Content-Type": "application/json"},
    ).respond_with_json({"result": "Request will be processed", "requestId": "r1"}, status=202)

    opsgenie = transport(
        "opsgenie", config={"api_url": httpserver.url_for("/")}, secrets={"api_key": API_KEY}
    )
    result = opsgenie.send(message)

    assert result.http_status == 202
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert ("message" in body) is (status == "firing")
