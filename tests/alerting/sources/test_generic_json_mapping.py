"""A tenant declares how any JSON body becomes alerts; Herald applies it or names the bad field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerting.sources.generic_json import (
    generic_json_alerts,
    generic_json_webhooks,
    labels_fingerprint,
)
from alerting.sources.generic_json_config import MappingError, generic_json_config_check

CLOUDWATCH_MAPPING = {
    "labels": {
        "alertname": "AlarmName",
        "region": "Region",
        "instance": "Trigger.Dimensions[?name=='InstanceId'].value | [0]",
    },
    "annotations": {"summary": "AlarmDescription", "reason": "NewStateReason"},
    "status": "NewStateValue",
    "status_map": {"ALARM": "firing", "OK": "resolved", "INSUFFICIENT_DATA": "firing"},
    "startsAt": "StateChangeTime",
}


def cloudwatch_alarm(state: str = "ALARM") -> dict:
    return {
        "AlarmName": "HighCPU",
        "AlarmDescription": "CPU above 90% for 5 minutes",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [97.2] was >= 90.0",
        "StateChangeTime": "2026-11-30T10:00:00.000+0000",
        "Region": "EU (Ireland)",
        "Trigger": {
            "MetricName": "CPUUtilization",
            "Dimensions": [{"name": "InstanceId", "value": "i-0abc123"}],
        },
    }


def test_a_cloudwatch_alarm_becomes_a_firing_alert_and_its_ok_resolves_it():
    (firing,) = generic_json_alerts(cloudwatch_alarm(), config=CLOUDWATCH_MAPPING)
    (resolved,) = generic_json_alerts(cloudwatch_alarm("OK"), config=CLOUDWATCH_MAPPING)

    assert firing["status"] == "firing" and resolved["status"] == "resolved"
    assert firing["labels"] == {
        "alertname": "HighCPU", "region": "EU (Ireland)", "instance": "i-0abc123",
    }
    assert firing["annotations"]["summary"] == "CPU above 90% for 5 minutes"
    assert firing["startsAt"] == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert firing["endsAt"] is None and firing["generatorURL"] == ""
    # No fingerprint declared: the labels' own, so the OK finds the ALARM's alert.
    assert firing["fingerprint"] == resolved["fingerprint"] == labels_fingerprint(
        firing["labels"]
    )


def test_the_fingerprint_of_labels_is_alertmanagers():
    # Alertmanager's fingerprints of these label sets (prometheus/common, FNV-1a 64).
    assert labels_fingerprint({}) == "cbf29ce484222325"
    assert labels_fingerprint({"a": "b"}) != labels_fingerprint({"b": "a"})
    assert labels_fingerprint({"alertname": "x", "job": "y"}) == labels_fingerprint(
        {"job": "y", "alertname": "x"}
    )


ZABBIX_MAPPING = {
    "labels": {
        "alertname": "event.name",
        "host": "host.name",
        "severity": "event.severity",
    },
    "annotations": {"summary": "join(' ', [host.name, ':', event.name])"},
    "status": "event.value",
    "status_map": {"1": "firing", "0": "resolved"},
    "fingerprint": "event.id",
    "startsAt": "event.clock",
    "endsAt": "event.recovery_clock",
    "generatorURL": "url",
}


def zabbix_event(value: str = "1", **event) -> dict:
    return {
        "event": {
            "id": "4711", "name": "High CPU load", "severity": "High", "value": value,
            "clock": 1796032800, **event,
        },
        "host": {"name": "web-01"},
        "url": "https://zabbix.example/tr_events.php?eventid=4711",
    }


def test_a_zabbix_event_is_identified_by_its_id_and_timed_by_its_clock():
    (problem,) = generic_json_alerts(zabbix_event(), config=ZABBIX_MAPPING)
    (recovery,) = generic_json_alerts(
        zabbix_event("0", recovery_clock=1796033400000), config=ZABBIX_MAPPING
    )

    assert problem["labels"] == {"alertname": "High CPU load", "host": "web-01", "severity": "High"}
    assert problem["annotations"] == {"summary": "web-01 : High CPU load"}
    assert problem["startsAt"] == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert problem["generatorURL"].endswith("eventid=4711")
    # Seconds or milliseconds since 1970 both read as times.
    assert recovery["endsAt"] == datetime(2026, 11, 30, 10, 10, tzinfo=UTC)
    assert recovery["status"] == "resolved"
    # The declared fingerprint (the event id), hashed to the hex Herald stores.
    assert problem["fingerprint"] == recovery["fingerprint"] != labels_fingerprint(
        problem["labels"]
    )


CHECKS_MAPPING = {
    "alerts": "checks[?state != 'skipped']",
    "labels": {"alertname": "join('_', ['check', name])", "host": "$host"},
    "status": "state",
    "status_map": {"ok": "resolved", "warning": "firing", "critical": "firing"},
    "startsAt": "since",
    "group_by": ["host"],
}


def test_a_list_of_checks_becomes_one_alert_each_in_one_group_per_host():
    body = {
        "checks": [
            {"name": "disk", "$host": "db-1", "state": "critical", "since": "2026-11-30T09:00:00Z"},
            {"name": "load", "$host": "db-1", "state": "ok", "since": "2026-11-30T08:00:00Z"},
            {"name": "disk", "$host": "db-2", "state": "warning", "since": "2026-11-30T09:30:00Z"},
            {"name": "ntp", "$host": "db-2", "state": "skipped", "since": "2026-11-30T07:00:00Z"},
        ]
    }
    mapping = {**CHECKS_MAPPING, "labels": {"alertname": "join('_', ['check', name])",
                                             "host": '"$host"'}}

    alerts = generic_json_alerts(body, config=mapping)
    webhooks = generic_json_webhooks(alerts, source_name="checks", group_by=["host"])

    assert [(a["labels"]["alertname"], a["status"]) for a in alerts] == [
        ("check_disk", "firing"), ("check_load", "resolved"), ("check_disk", "firing"),
    ]
    assert [w["groupKey"] for w in webhooks] == [
        'source/checks:{host="db-1"}', 'source/checks:{host="db-2"}',
    ]
    first, second = webhooks
    assert (first["status"], len(first["alerts"])) == ("firing", 2)
    assert first["commonLabels"] == {"host": "db-1"} and first["groupLabels"] == {"host": "db-1"}
    assert second["receiver"] == "checks" and second["version"] == "4"


def test_labels_may_come_from_one_expression_and_a_missing_value_is_no_label():
    body = {"tags": {"service": "api", "team": "core"}, "title": "5xx rate"}
    mapping = {"labels": "tags", "annotations": {"summary": "title", "runbook": "runbook"},
               "startsAt": "`\"2026-11-30T10:00:00Z\"`"}

    (alert,) = generic_json_alerts(body, config=mapping)

    assert alert["labels"] == {"service": "api", "team": "core"}
    assert alert["annotations"] == {"summary": "5xx rate"}  # no runbook in the body


def test_a_template_mapping_renders_alertmanagers_shape_in_the_sandbox():
    template = """[{% for check in payload.checks %}{% if not loop.first %},{% endif %}
      {"labels": {"alertname": {{ check.name | tojson }}},
       "status": {{ ('resolved' if check.ok else 'firing') | tojson }},
       "startsAt": {{ check.since | tojson }}}{% endfor %}]"""
    body = {"checks": [{"name": "disk", "ok": False, "since": "2026-11-30T09:00:00Z"},
                       {"name": "ntp", "ok": True, "since": "2026-11-30T08:00:00Z"}]}

    alerts = generic_json_alerts(body, config={"template": template})

    assert [(a["labels"], a["status"]) for a in alerts] == [
        ({"alertname": "disk"}, "firing"), ({"alertname": "ntp"}, "resolved"),
    ]
    assert alerts[0]["startsAt"] == datetime(2026, 11, 30, 9, tzinfo=UTC)


def error_of(body, mapping) -> MappingError:
    with pytest.raises(MappingError) as caught:
        generic_json_alerts(body, config=mapping)
    return caught.value


@pytest.mark.parametrize(
    ("body", "mapping", "field", "says"),
    [
        ({"a": 1}, {"labels": {"x": "missing"}, "startsAt": "`0`"}, "labels",
         "yields no labels"),
        ({"n": 5}, {"labels": {"count": "n"}, "startsAt": "`0`"}, "labels.count",
         "a number, not a string"),
        ([{"n": "a"}] * 1001, {"labels": {"n": "n"}, "startsAt": "`0`"}, "alerts",
         "more than the 1,000 allowed"),
        ({"a": "x"}, {"labels": {"a": "a[?"}, "startsAt": "`0`"}, "labels.a",
         "not a valid JMESPath expression"),
        ({"a": "x"}, {"labels": {"a": "a"}, "startsAt": "`0`", "status": "a"}, "status",
         "which status_map does not map"),
        ({"a": "x"}, {"labels": {"a": "a"}}, "startsAt", "needs startsAt"),
        ({"a": "x"}, {"labels": {"a": "a"}, "startsAt": "a"}, "startsAt",
         "not an RFC 3339 time"),
        ({"a": "x"}, {"labels": {"a": "a"}, "startsAt": "`0`", "colour": "a"}, "colour",
         "unknown field"),
        ({"a": "x"}, {"labels": {"a": "a"}, "startsAt": "`0`", "status_map": {"x": "on"}},
         "status_map.x", "'firing' or 'resolved'"),
        ({"a": "x"}, {"labels": {"a": "a"}, "startsAt": "`0`", "alerts": "length(a, a)"},
         "alerts", "length() takes 1 argument(s), not 2"),
        ({"a": "x"}, {"labels": {"a": "shout(a)"}, "startsAt": "`0`"}, "labels.a",
         "unknown function shout()"),
        ([{"a": "x"}, {"a": "x"}], {"labels": {"a": "a"}, "startsAt": "`0`"}, "fingerprint",
         "has the fingerprint of alerts[0]"),
        ({"a": "x"}, {"labels": {"a": "a" * 1001}, "startsAt": "`0`"}, "labels.a",
         "longer than 1,000 characters"),
        ({"a": "x"}, {"template": "{{ payload.a }}"}, "template", "not JSON"),
        ({"a": "x"}, {"template": "{% for i in range(10**6) %}{% endfor %}"}, "template",
         "range() is limited"),
    ],
)
def test_each_mistake_is_an_error_naming_its_field(body, mapping, field, says):
    error = error_of(body, mapping)
    assert error.field == field
    assert says in str(error)


def test_an_expression_that_doubles_its_input_is_stopped_not_run():
    doubling = "|".join(["[@, @, @, @]"] * 20)
    for tail, says in (("to_string(@)", "longer than"), ("[][][][][][][][][]", "items")):
        error = error_of({"a": "x" * 100}, {"labels": {"a": f"{doubling} | {tail}"},
                                             "startsAt": "`0`"})
        assert error.field == "labels.a" and says in str(error)


def test_comparing_shared_structures_is_sized_first():
    doubling = "|".join(["[@, @]"] * 40)
    expression = f"({doubling}) == ({doubling.replace('@, @', '[@][0], @')})"
    error = error_of({"a": "x"}, {"labels": {"a": expression}, "startsAt": "`0`"})
    assert error.field == "labels.a" and "compared value" in str(error)


def test_the_config_check_alone_catches_a_bad_expression_before_any_body():
    with pytest.raises(MappingError) as caught:
        generic_json_config_check({"labels": {"host": "host.[name"}, "startsAt": "`0`"})
    assert caught.value.field == "labels.host"
