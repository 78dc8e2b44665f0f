"""Label matchers behave as Alertmanager documents them."""

import pytest

from alerting.matchers import MatcherError, MatchType, matches_all, parse_matcher, parse_matchers

LABELS = {"alertname": "DiskFull", "severity": "critical", "instance": "db-1:9100"}


@pytest.mark.parametrize(
    ("matcher", "matches"),
    [
        ('severity="critical"', True),
        ("severity=critical", True),
        ('severity="warning"', False),
        ('severity!="warning"', True),
        ('instance=~"db-.*"', True),
        ('instance=~"db"', False),  # anchored: the whole value must match
        ('instance=~"db-1:9100|web-1"', True),
        ('instance!~"web-.*"', True),
        ('team=""', True),  # an absent label is the empty string
        ('team!=""', False),
        ('team=~".*"', True),
        ('team=~".+"', False),
        ('alertname!~""', True),
    ],
)
def test_a_matcher_selects_labels_as_alertmanager_does(matcher, matches):
    assert parse_matcher(matcher).matches(LABELS) is matches


def test_several_matchers_must_all_match():
    assert matches_all(parse_matchers('{severity="critical", instance=~"db-.*"}'), LABELS)
    assert not matches_all(parse_matchers('severity="critical",instance=~"web-.*"'), LABELS)


def test_quoted_values_may_hold_commas_quotes_and_spaces():
    matchers = parse_matchers(r'summary="disk, \"var\" full", team="a b"')
    assert [(m.name, m.type, m.value) for m in matchers] == [
        ("summary", MatchType.EQUAL, 'disk, "var" full'),
        ("team", MatchType.EQUAL, "a b"),
    ]


def test_a_matcher_prints_back_in_the_same_syntax():
    matcher = parse_matcher(r'summary=~"a\"b"')
    assert parse_matcher(str(matcher)) == matcher


@pytest.mark.parametrize("text", ["severity", "=critical", "1abc=x", 'x=~"("', 'x="unterminated'])
def test_bad_matchers_are_refused_with_a_reason(text):
    with pytest.raises(MatcherError):
        parse_matcher(text)
