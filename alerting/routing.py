"""Which routes take an alert (pure): ordered, `continue`, minimum severity, default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerting.matchers import Matcher, matches_all

SEVERITY_RANKS = {"info": 1, "warning": 2, "error": 3, "critical": 4}


def severity_rank(labels: dict[str, str]) -> int:
    """0 for alerts without a known `severity` label (case-insensitive)."""
    return SEVERITY_RANKS.get(labels.get("severity", "").strip().lower(), 0)


@dataclass(frozen=True)
class RouteRule:
    id: int
    name: str
    matchers: tuple[Matcher, ...] = ()
    min_severity: int = 0
    continue_matching: bool = False
    is_default: bool = False
    receiver_ids: tuple[int, ...] = ()
    escalation_policy_id: int | None = None

    def takes(self, labels: dict[str, str]) -> bool:
        return severity_rank(labels) >= self.min_severity and matches_all(
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
