"""Whatever JSON a hostile sender posts, the mappings answer with a field error, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from alerting.sources.grafana import grafana_webhook
from alerting.sources.pagerduty_events import (
    PagerDutyInvalid,
    pagerduty_event,
    pagerduty_events_webhook,
)
from alerting.sources.signature import SignatureRefused, signature_check
from tests.alerting.sources.payloads import grafana_payload, pd_trigger

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
GRAFANA_FIELDS = ["version", "alerts", "status", "groupKey", "groupLabels", "truncatedAlerts",
                  "receiver", "externalURL", "commonLabels"]
ALERT_FIELDS = ["labels", "annotations", "values", "valueString", "panelURL", "imageURL",
                "fingerprint", "startsAt", "endsAt", "status"]


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(GRAFANA_FIELDS), alert_field=st.sampled_from(ALERT_FIELDS),
       value=json_values, alert_value=json_values)
def test_grafana_payloads_with_any_field_replaced_are_valid_or_a_field_error(
    field, alert_field, value, alert_value
):
    payload = grafana_payload()
    payload["alerts"][0][alert_field] = alert_value
    payload[field] = value
    try:
        webhook = grafana_webhook(payload, config={}, source="g")
    except serializers.ValidationError as exc:
        assert exc.detail
    else:
        assert webhook["groupKey"].startswith("grafana/g:")
        assert all(isinstance(v, str) for a in webhook["alerts"] for v in a["annotations"].values())


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(["event_action", "dedup_key", "payload", "routing_key", "links",
                              "images", "client_url"]),
       payload_field=st.sampled_from(["summary", "source", "severity", "custom_details",
                                      "timestamp", "class"]),
       value=json_values, payload_value=json_values)
def test_pagerduty_events_with_any_field_replaced_are_valid_or_pagerdutys_errors(
    field, payload_field, value, payload_value
):
    event = pd_trigger("hk_key")
    event["payload"][payload_field] = payload_value
    event[field] = value
    try:
        checked = pagerduty_event(event, generated_key="g" * 32)
        if checked.action != "acknowledge":
            pagerduty_events_webhook(checked, config={}, source="s",
                                     starts_at=datetime(2026, 1, 1, tzinfo=UTC))
    except PagerDutyInvalid as exc:
        assert exc.errors and all(isinstance(error, str) for error in exc.errors)


@settings(max_examples=100, deadline=None)
@given(signature=st.text(max_size=300), stamp=st.text(max_size=30))
def test_any_signature_headers_are_refused_with_a_reason(signature, stamp):
    headers = {"X-Grafana-Alerting-Signature": signature, "X-Ts": stamp}
    try:
        signature_check(body=b"{}", headers=headers, secret="s", timestamp_header="X-Ts",
                        now=1_800_000_000)
    except SignatureRefused as exc:
        assert str(exc)
    else:
        raise AssertionError("a random signature was accepted")
