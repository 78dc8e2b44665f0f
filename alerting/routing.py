"""Which routes take an alert (pure): a tree walked as Alertmanager's dispatcher walks it.

Herald's top-level routes are the children of an implicit root. A route that
matches (matchers and minimum severity) tries its children in order: each
child that matches adds its own matches, and the first one without
`continue` ends the search among its siblings. A route none of whose
children matched is itself the match. The same rule runs on the root's
children, the top-level routes; when none of them matched, the default
routes that fit the alert take it (the implicit root's own match).

Receivers inherit as in Alertmanager, where a route without a `receiver`
takes its parent's: a nested route with no receivers of its own notifies its
parent's (unless `inherit_receivers` is off: then nobody, like a receiver
without integrations). The implicit root has no receivers, so a top-level
route without receivers notifies nobody at once. Escalation policies are not
inherited: a policy pages people, and only the route that names it starts it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext

from alerting.matchers import Matcher, matches_all
from receivers.severity import severity_rank

# How deep routes may nest (the admin and the config file refuse more). Deeper
# rules are left out of the tree: every walk of it is recursive.
MAX_DEPTH = 32


@dataclass(frozen=True)
class RouteRule:
    id: int
    name: str
    matchers: tuple[Matcher, ...] = ()
    min_severity: int = 0  # a rank of receivers.severity; 0 takes every alert
    continue_matching: bool = False
    is_default: bool = False
    # Before route_tree: the route's own receivers; after: the ones it notifies.
    receiver_ids: tuple[int, ...] = ()
    escalation_policy_id: int | None = None
    # Pages this team by its escalation policy when the route names no policy.
    team_id: int | None = None
    parent_id: int | None = None
    inherit_receivers: bool = True
    children: tuple[RouteRule, ...] = ()

    def takes(self, labels: dict[str, str]) -> bool:
        return severity_rank(labels.get("severity")) >= self.min_severity and matches_all(
            list(self.matchers), labels
        )


def route_tree(rules: Sequence[RouteRule]) -> tuple[RouteRule, ...]:
    """Flat rules (in position order, each naming its parent) as the top-level rules of a tree.

    Children keep the order they had in `rules`, and each rule's receivers
    become the ones it notifies (its own, or inherited). A rule whose parent
    is not among `rules`, whose ancestors form a cycle, or that is nested
    deeper than MAX_DEPTH is left out with its subtree.
    """
    children: dict[int | None, list[RouteRule]] = defaultdict(list)
    for rule in rules:
        children[rule.parent_id].append(rule)

    def build(rule: RouteRule, inherited: tuple[int, ...], depth: int) -> RouteRule:
        own = rule.receiver_ids
        notified = own if own or not rule.inherit_receivers else inherited
        below = tuple(
            build(child, notified, depth + 1)
            for child in (children.get(rule.id, ()) if depth < MAX_DEPTH else ())
        )
        return dataclasses.replace(rule, receiver_ids=notified, children=below)

    # Walking down from the top meets every reachable rule once: each has one
    # parent, and a cycle (or a missing parent) has no way in from the top.
    return tuple(build(rule, (), 1) for rule in children[None])


def route_ids(tree: Sequence[RouteRule]) -> set[int]:
    """Every rule id in the tree."""
    found: set[int] = set()
    stack = list(tree)
    while stack:
        rule = stack.pop()
        found.add(rule.id)
        stack.extend(rule.children)
    return found


def _matches(rule: RouteRule, labels: dict[str, str]) -> list[RouteRule]:
    if not rule.takes(labels):
        return []
    taken = _among(rule.children, labels)
    return taken or [rule]


def _among(siblings: Sequence[RouteRule], labels: dict[str, str]) -> list[RouteRule]:
    taken: list[RouteRule] = []
    for rule in siblings:
        found = _matches(rule, labels)
        taken += found
        if found and not rule.continue_matching:
            break
    return taken


def routes_for(labels: dict[str, str], rules: Sequence[RouteRule]) -> list[RouteRule]:
    """The routes an alert goes to, in the tree's order (`rules`: the top-level ones).

    Each route returned carries the receivers it notifies; the same route
    is never returned twice, though two routes may name the same receiver.
    """
    taken = _among([rule for rule in rules if not rule.is_default], labels)
    if not taken:
        for rule in rules:
            if rule.is_default:
                taken += _matches(rule, labels)
    return taken


def route_placement_problem(
    *,
    route_id: int | None,
    parent_id: int | None,
    is_default: bool,
    routes: Mapping[int, tuple[int | None, bool]],
) -> str | None:
    """Why a route cannot be placed under `parent_id` (None: it can).

    `routes` is every stored route's (parent id, is default); `route_id` is
    None for a route not stored yet. Refused: a cycle (the route under
    itself or its own subtree), nesting deeper than MAX_DEPTH, and a default
    route anywhere but the top level or with routes under it (defaults take
    what no top-level route took: there is nothing left for a subtree).
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    for child, (parent, _) in routes.items():
        if child != route_id:
            children[parent].append(child)
    has_children = route_id is not None and bool(children.get(route_id))
    if is_default and (parent_id is not None or has_children):
        return gettext("A default route is a top-level route with no routes nested under it.")
    if parent_id is None:
        return None
    if parent_id not in routes:
        return gettext("The parent route does not exist.")
    if routes[parent_id][1]:
        return gettext("No route can be nested under a default route.")
    ancestors, node = [], parent_id
    while node is not None and node not in ancestors:
        ancestors.append(node)
        node = routes.get(node, (None, False))[0] if node != route_id else None
    if route_id in ancestors:
        return gettext(
            "A route cannot be nested under itself or under a route nested in it."
        )
    height, level, seen = 1, [route_id] if route_id is not None else [], set(ancestors)
    while level := [c for n in level for c in children.get(n, ()) if c not in seen]:
        seen.update(level)
        height += 1
    if len(ancestors) + height > MAX_DEPTH:
        return gettext("Routes nest at most %(depth)d deep.") % {"depth": MAX_DEPTH}
    return None
