"""Whatever a hostile sender posts, and whatever a tenant writes, a mapping answers alerts or a
clear error naming a field: never another exception, never a hang."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting.sources.generic_json import generic_json_alerts
from alerting.sources.generic_json_config import MappingError
from tests.alerting.sources.test_generic_json_mapping import (
    CHECKS_MAPPING,
    CLOUDWATCH_MAPPING,
    ZABBIX_MAPPING,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.sampled_from(["a", "b", "name", "event", "checks", "tags", ""])
                      | st.text(max_size=5), children, max_size=6),
    max_leaves=40,
)

# Pieces of JMESPath, put together at random: most are wrong, some are hostile.
fragments = st.sampled_from([
    "@", "a", "b", "name", "[*]", "[]", "[0]", "[-1]", "[?a]", "[?a == b]", ".", "|", "&", "*",
    "to_string(@)", "join(',', @)", "length(@)", "keys(@)", "values(@)", "sort(@)", "merge(@, @)",
    "[@, @]", "{a: @, b: @}", "`1`", "`\"x\"`", "'x'", "(", ")", "!", "&&", "||", "contains(@, a)",
    "sort_by(@, &a)", "max_by(@, &a)", "to_array(@)", "not_null(a, b)", "reverse(@)", "[:2]",
])
expressions = st.lists(fragments, min_size=1, max_size=12).map("".join)

mappings = st.sampled_from([CLOUDWATCH_MAPPING, ZABBIX_MAPPING, CHECKS_MAPPING]) | st.builds(
    lambda alerts, label, annotation, status: {
        "alerts": alerts, "labels": {"x": label}, "annotations": {"y": annotation},
        "status": status, "status_map": {"1": "firing", "true": "resolved"}, "startsAt": "`0`",
    },
    expressions, expressions, expressions, expressions,
)


def answers_in_bounds(body, mapping) -> None:
    started = time.monotonic()
    try:
        alerts = generic_json_alerts(body, config=mapping)
    except MappingError as error:
        assert error.field and error.message
    else:
        assert alerts
        for alert in alerts:
            assert alert["labels"] and all(isinstance(v, str) for v in alert["labels"].values())
            assert alert["status"] in ("firing", "resolved")
            assert len(alert["fingerprint"]) == 16
    assert time.monotonic() - started < 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values, mapping=mappings)
def test_any_body_under_any_mapping_is_alerts_or_a_named_error(body, mapping):
    answers_in_bounds(body, mapping)


@settings(max_examples=100, deadline=None)
@given(depth=st.integers(min_value=1, max_value=60), width=st.integers(min_value=1, max_value=8))
def test_pipes_of_copies_stay_within_the_budget(depth, width):
    copies = "[" + ", ".join(["@"] * width) + "]"
    expression = " | ".join([copies] * depth) + " | to_string(@)"
    answers_in_bounds({"a": "x" * 50}, {"labels": {"a": expression}, "startsAt": "`0`"})


def test_a_body_nested_thousands_deep_is_an_error_not_a_crash():
    deep: object = "x"
    for _ in range(5000):
        deep = [deep]
    for mapping in (
        {"labels": {"a": "to_string(@)"}, "startsAt": "`0`"},
        {"labels": {"a": "'x'"}, "status": "@", "startsAt": "`0`"},
        {"labels": {"a": "@ == @"}, "startsAt": "`0`"},
        {"template": "{{ payload | tojson }}"},
    ):
        answers_in_bounds(deep, mapping)
