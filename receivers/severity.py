"""Herald's one severity vocabulary (pure): names, aliases, ranks, and how each channel shows them.

Alertmanager setups spell the `severity` label freely (`crit`, `P2`, `warn`,
`Informational`...). Everything that reads that label asks this module:
routing's `min_severity`, the templates' `severity`, `severity_emoji` and
`severity_color`, and every transport's own scale (PagerDuty's four
severities, Opsgenie's P1..P5, the Teams card style). A spelling is trimmed
and lower-cased, then looked up among the canonical names and their aliases;
anything else (or no label at all) is `none`, which ranks lowest.

Matchers (`severity="critical"`) are not folded: they compare the label as
Alertmanager does, so `min_severity` is the place for "critical and worse".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeverityLevel:
    name: str
    rank: int  # higher is more severe; routes compare ranks
    aliases: tuple[str, ...]
    emoji: str
    color: str  # '#RRGGBB'
    pagerduty: str  # Events API v2 payload.severity
    opsgenie: str  # alert priority
    teams_style: str  # Adaptive Card container style


# Most severe first. Each spelling belongs to exactly one level (checked at import).
LEVELS: tuple[SeverityLevel, ...] = (
    SeverityLevel(
        name="critical", rank=4,
        aliases=("crit", "fatal", "emergency", "emerg", "alert", "page", "disaster", "p1"),
        emoji="🔴", color="#D32F2F", pagerduty="critical", opsgenie="P1", teams_style="attention",
    ),
    SeverityLevel(
        name="error", rank=3,
        aliases=("err", "high", "major", "p2"),
        emoji="🟠", color="#F57C00", pagerduty="error", opsgenie="P2", teams_style="attention",
    ),
    SeverityLevel(
        name="warning", rank=2,
        aliases=("warn", "medium", "average", "minor", "p3"),
        emoji="🟡", color="#FBC02D", pagerduty="warning", opsgenie="P3", teams_style="warning",
    ),
    SeverityLevel(
        name="info", rank=1,
        aliases=("information", "informational", "notice", "low", "p4"),
        emoji="🔵", color="#1976D2", pagerduty="info", opsgenie="P4", teams_style="emphasis",
    ),
    # PagerDuty has no "none"; Alertmanager's own pagerduty_config defaults to "error".
    SeverityLevel(
        name="none", rank=0,
        aliases=("p5", "debug", "trace", "ok"),
        emoji="⚪", color="#9E9E9E", pagerduty="error", opsgenie="P5", teams_style="emphasis",
    ),
)
SEVERITIES: tuple[str, ...] = tuple(level.name for level in LEVELS)
NONE = LEVELS[-1]
RESOLVED_EMOJI = "✅"
RESOLVED_COLOR = "#2E7D32"


def _index_by_spelling(levels: Iterable[SeverityLevel]) -> dict[str, SeverityLevel]:
    index: dict[str, SeverityLevel] = {}
    for level in levels:
        for spelling in (level.name, *level.aliases):
            # One spelling in two levels would make the table's order decide.
            if spelling in index:
                raise ValueError(f"severity spelling {spelling!r} belongs to two levels")
            index[spelling] = level
    return index


_BY_SPELLING = _index_by_spelling(LEVELS)
_BY_RANK: dict[int, SeverityLevel] = {level.rank: level for level in LEVELS}

# What a route's (and the config file's) `min_severity` offers, by rank:
# rank 0 reads "any", since every alert, even one without a severity, passes it.
MIN_SEVERITY_NAMES: tuple[str, ...] = tuple(
    "any" if rank == NONE.rank else _BY_RANK[rank].name for rank in sorted(_BY_RANK)
)


def min_severity_rank(name: str) -> int:
    """The rank a route's minimum names ("any", "info", ... "critical")."""
    return NONE.rank if name == "any" else _BY_SPELLING[name].rank


def min_severity_name(rank: int) -> str:
    """The name of a route's minimum rank, as the config file spells it."""
    return "any" if rank == NONE.rank else _BY_RANK[rank].name


def severity_lookup(value: Any) -> SeverityLevel | None:
    """The level a spelling names, or None when it names none (strict)."""
    return _BY_SPELLING.get(str(value if value is not None else "").strip().lower())


def severity_level(value: Any) -> SeverityLevel:
    """The level a label value names; unknown or missing is `none`."""
    return severity_lookup(value) or NONE


def severity_normalize(value: Any) -> str:
    """The canonical name (one of SEVERITIES); unknown or missing is 'none'."""
    return severity_level(value).name


def severity_rank(value: Any) -> int:
    """How severe a label value is: 4 critical ... 1 info, 0 unknown or missing."""
    return severity_level(value).rank


def severity_spellings(name: str) -> tuple[str, ...]:
    """Every spelling of a canonical level, its name first (for filtering stored labels)."""
    level = _BY_SPELLING[name]
    return (level.name, *level.aliases)


def severity_highest(values: Iterable[Any]) -> str:
    levels = [severity_level(value) for value in values]
    return max(levels, key=lambda level: level.rank).name if levels else NONE.name


def group_severity(*, common_labels: Mapping[str, str], alerts: Iterable[Mapping[str, Any]]) -> str:
    """The group's severity: the common label, else the worst firing alert's."""
    if "severity" in common_labels:
        return severity_normalize(common_labels["severity"])
    alerts = list(alerts)
    firing = [alert for alert in alerts if alert.get("status") == "firing"] or alerts
    return severity_highest(alert.get("labels", {}).get("severity") for alert in firing)


def severity_emoji(severity: Any, *, resolved: bool = False) -> str:
    return RESOLVED_EMOJI if resolved else severity_level(severity).emoji


def severity_color(severity: Any, *, resolved: bool = False) -> str:
    """A '#RRGGBB' colour; green once resolved."""
    return RESOLVED_COLOR if resolved else severity_level(severity).color


def pagerduty_severity(severity: Any) -> str:
    """PagerDuty's critical, error, warning or info."""
    return severity_level(severity).pagerduty


def opsgenie_priority(severity: Any, overrides: Mapping[str, str] | None = None) -> str:
    """Opsgenie's P1..P5; `overrides` maps any spelling of a level to a priority.

    An override whose key names no level is ignored, like a route matcher on
    a label no alert carries.
    """
    level = severity_level(severity)
    for key, priority in (overrides or {}).items():
        if severity_lookup(key) is level:
            return priority
    return level.opsgenie


def teams_style(severity: Any, *, resolved: bool = False) -> str:
    """The Adaptive Card container style; 'good' (green) once resolved."""
    return "good" if resolved else severity_level(severity).teams_style
