"""The fast validation path agrees with the DRF serializers, whatever the input."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting.api.webhook import WebhookSerializer, validated_webhook_fast
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
    st.sampled_from([2**31 - 1, 2**31, 2**40, "r" * 255, "r" * 256, "é" * 1000, "k" * 2001]),
    st.text(max_size=12),
    st.sampled_from(["4", "firing", "resolved", "", "2026-11-23T10:00:00Z", "2026-11-23",
                     "0001-01-01T00:00:00Z", "abc123", "ABC", "abc\n", "x\x00y", "\ud800",
                     "2026-11-23T10:00:00.123456789Z", "2026-11-23T10:00:00.5Z",
                     "2026-11-23T10:00:00+02:00", "2026-02-30T10:00:00Z", "2026-11-23 10:00:00Z",
                     "2026-11-23T10:00:00.1234567Z", "2026-11-23T24:00:00Z"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
TOP_FIELDS = ["version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
              "commonLabels", "commonAnnotations", "externalURL", "alerts"]
ALERT_FIELDS = ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                "fingerprint"]


@st.composite
def payloads(draw):
    """A valid payload with a few random fields replaced, removed, or made odd."""
    alerts = [WebhookAlertFactory() for _ in range(draw(st.integers(1, 3)))]
    payload = WebhookPayloadFactory(alerts=alerts)
    if draw(st.booleans()) and len(alerts) > 1:
        alerts[1]["fingerprint"] = alerts[0]["fingerprint"].upper()
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "alert", "label"]))
        if where == "top":
            target, field = payload, draw(st.sampled_from(TOP_FIELDS))
        elif where == "alert":
            target, field = draw(st.sampled_from(alerts)), draw(st.sampled_from(ALERT_FIELDS))
        else:
            target = draw(st.sampled_from(alerts)).get("labels")
            field = draw(st.sampled_from(["alertname", "", "x\x00", "new"]))
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()):
            target.pop(field, None)
        else:
            target[field] = draw(json_values)
    return payload


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_the_fast_path_accepts_only_what_drf_accepts_with_the_same_result(payload):
    serializer = WebhookSerializer(data=copy.deepcopy(payload))
    valid = serializer.is_valid()

    # Given the JSON text too, the fast path checks it, not each string, for
    # what PostgreSQL cannot store.
    for text in (None, json.dumps(payload)):
        fast = validated_webhook_fast(copy.deepcopy(payload), text=text)
        if fast is not None:
            assert valid, serializer.errors
            assert fast == serializer.validated_data


def test_the_fast_path_takes_the_payloads_alertmanager_sends():
    payload = WebhookPayloadFactory(alerts=WebhookAlertFactory.build_batch(50))
    assert validated_webhook_fast(payload) is not None
