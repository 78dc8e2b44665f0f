"""Which routes take an alert (pure): ordered, `continue`, minimum severity, default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerting.matchers import Matcher, matches_all
from receivers.severity import severity_rank


@dataclass(frozen=True)
class RouteRule:
    id: int
    name: str
    matchers: tuple[Matcher, ...] = ()
    min_severity: int = 0  # a rank of receivers.severity; 0 takes every alert
    continue_matching: bool = False
    is_default: bool = False
    receiver_ids: tuple[int, ...] = ()
    escalation_policy_id: int | None = None

    def takes(self, labels: dict[str, str]) -> bool:
        return severity_rank(labels.get("severity")) >= self.min_severity and matches_all(
            list(self.matchers), labels
        )


def routes_for(labels: dict[str, str], rules: Sequence[RouteRule]) -> list[RouteRule]:
    """The routes an alert goes to, in order.

    The first matching route stops the search unless it says `continue`;
    default routes take the alert only when no other route did.
    """
    taken: list[RouteRule] = []
    for rule in rules:
        if rule.is_default or not rule.takes(labels):
            continue
        taken.append(rule)
        if not rule.continue_matching:
            break
    if not taken:
        taken = [rule for rule in rules if rule.is_default and rule.takes(labels)]
    return taken
