"""One severity vocabulary: every spelling Alertmanager setups use folds into five levels."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from alerting.config import schema
from alerting.models import Severity
from receivers.message_rendering import message_render
from receivers.severity import (
    LEVELS,
    MIN_SEVERITY_NAMES,
    RESOLVED_COLOR,
    RESOLVED_EMOJI,
    SEVERITIES,
    SeverityLevel,
    _index_by_spelling,
    group_severity,
    min_severity_name,
    min_severity_rank,
    opsgenie_priority,
    pagerduty_severity,
    severity_color,
    severity_emoji,
    severity_highest,
    severity_lookup,
    severity_normalize,
    severity_rank,
    severity_spellings,
    teams_style,
)
from tests.receivers.helpers import alert, alert_message

EVERY_SPELLING = [(level.name, spelling) for level in LEVELS
                  for spelling in (level.name, *level.aliases)]


@pytest.mark.parametrize(("name", "spelling"), EVERY_SPELLING)
def test_every_spelling_in_any_case_and_padding_names_its_level(name, spelling):
    for written in (spelling, spelling.upper(), f"  {spelling.title()}\t"):
        assert severity_normalize(written) == name
        assert severity_lookup(written).name == name


def test_the_aliases_people_reach_for_first():
    assert [severity_normalize(s) for s in ("crit", "fatal", "emergency", "page", "P1")] == [
        "critical"] * 5
    assert [severity_normalize(s) for s in ("err", "high", "major", "p2")] == ["error"] * 4
    assert [severity_normalize(s) for s in ("warn", "minor", "medium", "p3")] == ["warning"] * 4
    assert [severity_normalize(s) for s in ("low", "notice", "informational", "p4")] == [
        "info"] * 4
    assert [severity_normalize(s) for s in ("p5", "debug", "ok")] == ["none"] * 3


@pytest.mark.parametrize("value", ["", "   ", None, "sev-banana", "criticality", 42])
def test_anything_unknown_or_missing_is_none_and_ranks_lowest(value):
    assert severity_normalize(value) == "none"
    assert severity_rank(value) == 0


def test_an_unknown_spelling_is_not_found_by_the_strict_lookup():
    assert severity_lookup("sev-banana") is None
    assert severity_lookup("crit").name == "critical"


def test_levels_run_from_most_to_least_severe_with_distinct_ranks():
    assert SEVERITIES == ("critical", "error", "warning", "info", "none")
    ranks = [level.rank for level in LEVELS]
    assert ranks == sorted(ranks, reverse=True) == [4, 3, 2, 1, 0]


def test_a_spelling_in_two_levels_is_refused_when_the_table_is_built():
    clash = SeverityLevel(name="urgent", rank=5, aliases=("crit",), emoji="!", color="#000000",
                          pagerduty="critical", opsgenie="P1", teams_style="attention")
    with pytest.raises(ValueError, match="'crit' belongs to two levels"):
        _index_by_spelling([*LEVELS, clash])


def test_the_worst_firing_alert_decides_a_group_without_a_common_severity():
    alerts = [
        {"status": "firing", "labels": {"severity": "warn"}},
        {"status": "firing", "labels": {"severity": "CRIT"}},
        {"status": "resolved", "labels": {"severity": "p1"}},
    ]
    assert group_severity(common_labels={}, alerts=alerts) == "critical"
    assert group_severity(common_labels={"severity": "Fatal"}, alerts=[]) == "critical"
    assert severity_highest(["low", "minor"]) == "warning"
    assert severity_highest([]) == "none"


def test_an_alias_looks_like_its_level_in_every_channel():
    assert severity_emoji("crit") == severity_emoji("critical") == "🔴"
    assert severity_color("warn") == severity_color("warning") == "#FBC02D"
    assert teams_style("major") == teams_style("error") == "attention"
    assert severity_emoji("crit", resolved=True) == RESOLVED_EMOJI
    assert severity_color("crit", resolved=True) == RESOLVED_COLOR
    assert teams_style("crit", resolved=True) == "good"


@pytest.mark.parametrize(
    ("spelling", "pagerduty", "opsgenie"),
    [
        ("crit", "critical", "P1"),
        ("err", "error", "P2"),
        ("warn", "warning", "P3"),
        ("low", "info", "P4"),
        ("sev-banana", "error", "P5"),  # PagerDuty has no "none"; error is Alertmanager's default
    ],
)
def test_each_vendor_scale_follows_the_level(spelling, pagerduty, opsgenie):
    assert pagerduty_severity(spelling) == pagerduty
    assert opsgenie_priority(spelling) == opsgenie


def test_opsgenie_overrides_may_name_a_level_by_any_spelling():
    assert opsgenie_priority("critical", {"crit": "P2"}) == "P2"
    assert opsgenie_priority("p1", {"Critical": "P3"}) == "P3"
    assert opsgenie_priority("warning", {"crit": "P2"}) == "P3"
    assert opsgenie_priority("critical", {"sev-banana": "P5"}) == "P1"  # names no level


def test_spellings_let_a_stored_label_be_found_under_its_level():
    assert severity_spellings("warning")[:2] == ("warning", "warn")


def test_route_minimums_offer_any_then_each_level_by_rank():
    assert MIN_SEVERITY_NAMES == ("any", "info", "warning", "error", "critical")
    assert [(value, label) for value, label in Severity.choices] == list(
        enumerate(MIN_SEVERITY_NAMES)
    )


def test_the_config_files_min_severity_choices_are_the_vocabularys():
    assert typing.get_args(schema.Severity) == MIN_SEVERITY_NAMES
    assert [min_severity_rank(name) for name in MIN_SEVERITY_NAMES] == [0, 1, 2, 3, 4]
    assert [min_severity_name(rank) for rank in Severity.values] == list(MIN_SEVERITY_NAMES)


def test_an_alias_renders_as_its_level_in_the_default_templates():
    message = alert_message(
        common_labels={"alertname": "DiskFull", "severity": "crit"},
        alerts=[alert(n=1, labels={"severity": "crit"})],
    )
    rendered = message_render(channel="telegram", message=message)
    assert rendered.severity == "critical"
    assert rendered["body"].startswith("🔴") and rendered["body"].count("🔴") == 2


def test_the_readme_table_says_what_the_vocabulary_does():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for level in LEVELS:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{level.name}` |"))
        _, _, aliases, rank, pagerduty, opsgenie, emoji, _ = row.split("|")
        assert re.findall(r"`([^`]+)`", aliases) == list(level.aliases)
        assert int(rank) == level.rank
        assert pagerduty.split()[0] == f"`{level.pagerduty}`"
        assert opsgenie.strip() == level.opsgenie and emoji.strip() == level.emoji
