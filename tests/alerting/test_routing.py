"""Routes take alerts in order, like Alertmanager's route tree flattened."""

from alerting.matchers import parse_matchers
from alerting.routing import RouteRule, routes_for, severity_rank


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


def test_severity_ranks_ignore_case_and_unknown_values():
    assert severity_rank({"severity": "Critical "}) == 4
    assert severity_rank({"severity": "page"}) == 0
    assert severity_rank({}) == 0
