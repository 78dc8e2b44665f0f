"""Routes take alerts in order, like Alertmanager's route tree flattened."""

import pytest

from alerting.matchers import parse_matchers
from alerting.models import Severity
from alerting.routing import RouteRule, routes_for
from receivers.severity import severity_rank


def rule(id, matchers="", **fields):
    return RouteRule(id=id, name=f"r{id}", matchers=tuple(parse_matchers(matchers)), **fields)


DB = {"alertname": "DiskFull", "team": "db", "severity": "critical"}
WEB = {"alertname": "Latency", "team": "web", "severity": "warning"}


def names(labels, rules):
    return [route.id for route in routes_for(labels, rules)]


def test_the_first_matching_route_wins():
    rules = [rule(1, 'team="db"'), rule(2, 'severity="critical"'), rule(3)]
    assert names(DB, rules) == [1]
    assert names(WEB, rules) == [3]


def test_continue_lets_later_routes_match_too():
    rules = [rule(1, 'team="db"', continue_matching=True), rule(2, 'severity="critical"'),
             rule(3)]
    assert names(DB, rules) == [1, 2]


def test_the_default_route_takes_only_what_nothing_else_took():
    rules = [rule(9, is_default=True), rule(1, 'team="db"')]
    assert names(DB, rules) == [1]
    assert names(WEB, rules) == [9]


def test_no_route_at_all_means_nobody():
    assert names(WEB, [rule(1, 'team="db"')]) == []


def test_minimum_severity_filters_lower_alerts():
    rules = [rule(1, min_severity=3)]  # error and above
    assert names(DB, rules) == [1]
    assert names(WEB, rules) == []
    assert names({"alertname": "NoSeverity"}, rules) == []


def test_severity_ranks_ignore_case_spacing_and_unknown_values():
    assert severity_rank("Critical ") == 4
    assert severity_rank("page") == 4
    assert severity_rank("whatever") == 0
    assert severity_rank(None) == 0


@pytest.mark.parametrize(
    ("spelling", "minimum"),
    [
        ("crit", Severity.CRITICAL),
        ("CRIT", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("fatal", Severity.CRITICAL),
        ("err", Severity.ERROR),
        ("warn", Severity.WARNING),
        (" Warn ", Severity.WARNING),
        ("informational", Severity.INFO),
    ],
)
def test_an_alias_reaches_a_route_that_asks_for_its_canonical_severity(spelling, minimum):
    # The bug this pins: `severity="crit"` rendered as critical but ranked 0,
    # so every route with a minimum severity skipped it.
    pager = rule(1, min_severity=minimum)
    assert names({"alertname": "DiskFull", "severity": spelling}, [pager]) == [1]


def test_an_alias_ranks_like_its_level_not_above_it():
    critical_only = rule(1, min_severity=Severity.CRITICAL)
    assert names({"alertname": "Latency", "severity": "warn"}, [critical_only]) == []
    assert names({"alertname": "Latency", "severity": "high"}, [critical_only]) == []


def test_an_unknown_severity_ranks_as_none_and_reaches_only_routes_that_take_any():
    unknown = {"alertname": "Odd", "severity": "sev-banana"}
    assert names(unknown, [rule(1, min_severity=Severity.INFO)]) == []
    assert names(unknown, [rule(1, min_severity=Severity.NONE)]) == [1]
