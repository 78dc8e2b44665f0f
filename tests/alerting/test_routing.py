"""Routes take alerts as Alertmanager's tree does: in order, nested, `continue` among siblings."""

import pytest

from alerting.matchers import parse_matchers
from alerting.models import Severity
from alerting.routing import (
    MAX_DEPTH,
    RouteRule,
    route_ids,
    route_placement_problem,
    route_tree,
    routes_for,
)
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


# --- nested routes ------------------------------------------------------------


def tree(*rules):
    return route_tree(list(rules))


def test_a_matching_route_hands_the_alert_to_its_first_matching_child():
    rules = tree(rule(1, 'team="db"'), rule(2, 'env="prod"', parent_id=1),
                 rule(3, 'severity="critical"', parent_id=1), rule(4))
    assert names({**DB, "env": "prod"}, rules) == [2]
    assert names(DB, rules) == [3]


def test_a_route_none_of_whose_children_matched_is_itself_the_match():
    rules = tree(rule(1, 'team="db"'), rule(2, 'env="prod"', parent_id=1), rule(4))
    assert names(DB, rules) == [1]


def test_children_are_tried_only_for_alerts_their_parent_matches():
    rules = tree(rule(1, 'team="db"'), rule(2, 'severity="warning"', parent_id=1), rule(4))
    assert names(WEB, rules) == [4]  # a warning, but not the database team's


def test_a_continue_child_lets_its_siblings_match_too_but_never_leaves_its_parent():
    # The bug the flat list had: a `continue` child let the alert fall out of
    # its parent's subtree into the routes after the parent.
    rules = tree(rule(1, 'team="db"'), rule(2, 'severity="critical"', parent_id=1,
                                            continue_matching=True),
                 rule(3, 'alertname="DiskFull"', parent_id=1), rule(4, 'team=~".+"'))
    assert names(DB, rules) == [2, 3]
    assert names({**DB, "alertname": "Other"}, rules) == [2]


def test_continue_on_a_route_with_children_lets_later_routes_match_after_its_subtree():
    rules = tree(rule(1, 'team="db"', continue_matching=True),
                 rule(2, 'env="prod"', parent_id=1), rule(3, 'severity="critical"'))
    assert names({**DB, "env": "prod"}, rules) == [2, 3]
    assert names(DB, rules) == [1, 3]


def test_a_child_with_several_matchers_is_left_only_by_alerts_that_fit_them_all():
    rules = tree(rule(1, 'team="db"'),
                 rule(2, 'env="prod", severity="critical"', parent_id=1, continue_matching=True),
                 rule(3))
    assert names({**DB, "env": "prod"}, rules) == [2]
    assert names({**DB, "env": "dev"}, rules) == [1]


def test_the_minimum_severity_of_a_parent_holds_for_its_children():
    rules = tree(rule(1, min_severity=Severity.CRITICAL), rule(2, 'team="web"', parent_id=1),
                 rule(3))
    assert names(WEB, rules) == [3]
    assert names({**WEB, "severity": "crit"}, rules) == [2]


def test_defaults_take_only_what_no_top_level_route_took_however_deep():
    rules = tree(rule(9, is_default=True), rule(1, 'team="db"'),
                 rule(2, 'env="prod"', parent_id=1))
    assert names({**DB, "env": "prod"}, rules) == [2]
    assert names(WEB, rules) == [9]


def receivers(labels, rules):
    return [route.receiver_ids for route in routes_for(labels, rules)]


def test_a_nested_route_without_receivers_notifies_its_parents_as_alertmanager_does():
    rules = tree(rule(1, 'team="db"', receiver_ids=(10,)),
                 rule(2, 'env="prod"', parent_id=1),
                 rule(3, 'severity="critical"', parent_id=2))
    assert receivers({**DB, "env": "prod"}, rules) == [(10,)]


def test_own_receivers_replace_the_parents_and_are_passed_on():
    rules = tree(rule(1, 'team="db"', receiver_ids=(10,)),
                 rule(2, 'env="prod"', parent_id=1, receiver_ids=(20, 21)),
                 rule(3, 'severity="critical"', parent_id=2))
    assert receivers({**DB, "env": "prod"}, rules) == [(20, 21)]


def test_a_route_that_does_not_inherit_and_has_no_receivers_notifies_nobody():
    rules = tree(rule(1, 'team="db"', receiver_ids=(10,)),
                 rule(2, 'severity="info"', parent_id=1, inherit_receivers=False))
    assert receivers({**DB, "severity": "info"}, rules) == [()]
    assert receivers(DB, rules) == [(10,)]


def test_a_top_level_route_inherits_nothing_and_escalation_policies_are_never_inherited():
    rules = tree(rule(1, 'team="db"', escalation_policy_id=5),
                 rule(2, 'env="prod"', parent_id=1), rule(9, is_default=True,
                                                          receiver_ids=(90,)))
    (route,) = routes_for({**DB, "env": "prod"}, rules)
    assert route.receiver_ids == () and route.escalation_policy_id is None


def test_the_tree_keeps_the_given_order_among_siblings():
    rules = tree(rule(1), rule(5, 'a="1"', parent_id=1), rule(3, 'a="2"', parent_id=1),
                 rule(2))
    assert [r.id for r in rules] == [1, 2]
    assert [child.id for child in rules[0].children] == [5, 3]


def test_rules_under_a_missing_parent_or_in_a_cycle_are_left_out():
    rules = tree(rule(1), rule(2, parent_id=99), rule(3, parent_id=2),
                 rule(4, parent_id=5), rule(5, parent_id=4))
    assert route_ids(rules) == {1}


def test_rules_nested_deeper_than_the_limit_are_left_out():
    chain = [rule(1)] + [rule(n, parent_id=n - 1) for n in range(2, MAX_DEPTH + 5)]
    assert route_ids(route_tree(chain)) == set(range(1, MAX_DEPTH + 1))


# --- where a route may go ------------------------------------------------------

STORED = {1: (None, False), 2: (1, False), 3: (2, False), 9: (None, True)}


@pytest.mark.parametrize(
    ("route_id", "parent_id", "is_default", "problem"),
    [
        (3, 1, False, None),  # moved up a level
        (None, 3, False, None),  # a new route, deep down
        (1, 1, False, "under itself"),
        (1, 3, False, "under itself or under a route nested in it"),
        (None, 9, False, "under a default route"),
        (9, 1, True, "top-level"),
        (1, None, True, "no routes nested under it"),  # route 1 has children
        (3, None, True, None),
        (None, 42, False, "does not exist"),
    ],
)
def test_a_placement_that_would_loop_or_nest_under_a_default_is_refused(
    route_id, parent_id, is_default, problem
):
    found = route_placement_problem(
        route_id=route_id, parent_id=parent_id, is_default=is_default, routes=STORED
    )
    assert (found is None) if problem is None else (problem in found)


def test_a_placement_that_would_nest_a_subtree_too_deep_is_refused():
    chain = {n: (n - 1 if n > 1 else None, False) for n in range(1, MAX_DEPTH + 1)}
    chain[100], chain[101] = (None, False), (100, False)
    assert route_placement_problem(route_id=None, parent_id=MAX_DEPTH - 1, is_default=False,
                                   routes=chain) is None
    assert "at most" in route_placement_problem(
        route_id=100, parent_id=MAX_DEPTH - 1, is_default=False, routes=chain
    )
