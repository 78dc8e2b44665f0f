"""An SRE reads how fast incidents were acknowledged and resolved, by severity, route,
team, receiver and who acknowledged, with known incidents giving known numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerting.reports.selectors import response_times
from escalation.models import EscalationPolicy
from tests.factories import PersonFactory, ReceiverFactory, RouteFactory, TeamFactory
from tests.reports.factories import acknowledged_page, escalated, incident, notified

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
DAY = START + timedelta(days=10)


@pytest.fixture
def history(alpha):
    """Three critical incidents (TTA 1, 2, 10 min; TTR 10, 20 min, one still open),
    one warning never acknowledged, one outside the period."""
    policy = EscalationPolicy.objects.create(name="db-policy")
    team = TeamFactory(name="Databases", escalation_policy=policy)
    alice = PersonFactory(display_name="Alice")
    slack = ReceiverFactory(name="slack-db")
    route = RouteFactory(name="db-route", team=team)
    route.receivers.add(slack)
    first = incident(at=DAY, acked_after=60, resolved_after=600, by="Alice, by the link")
    second = incident(at=DAY + timedelta(hours=1), acked_after=120, resolved_after=1200,
                      by="api:ci")
    third = incident(at=DAY + timedelta(hours=2), acked_after=600, by="Alice, by the link")
    acknowledged_page(group=first, person=alice, policy=policy)
    acknowledged_page(group=third, person=alice, policy=policy)
    escalated(group=second, policy=policy)
    warning = incident(at=DAY, severity="warn", alertname="CpuHigh")
    notified(group=warning, receiver=slack, at=DAY)
    notified(group=warning, receiver=slack, at=DAY + timedelta(minutes=5))
    incident(at=START - timedelta(seconds=1), acked_after=1)  # before the period
    return {"groups": [first, second, third, warning]}


def _by_key(rows):
    return {row.key: row for row in rows}


def test_mtta_and_mttr_by_severity_with_percentiles(history):
    rows = _by_key(response_times(dimension="severity", start=START, end=END))

    critical = rows["critical"]
    assert (critical.incidents, critical.acknowledged, critical.resolved) == (3, 3, 2)
    assert critical.tta_mean == pytest.approx(260)  # (60 + 120 + 600) / 3
    assert critical.tta_p50 == pytest.approx(120)
    assert critical.tta_p95 == pytest.approx(120 + 0.9 * 480)  # percentile_cont
    assert critical.ttr_mean == pytest.approx(900)
    assert critical.ttr_p50 == pytest.approx(900)
    assert critical.ttr_p95 == pytest.approx(600 + 0.95 * 600)
    # "warn" is Herald's warning; never acknowledged, so no times at all.
    warning = rows["warning"]
    assert (warning.incidents, warning.acknowledged, warning.tta_mean) == (1, 0, None)


def test_who_acknowledged_is_the_person_of_the_acknowledged_page_else_as_recorded(history):
    rows = _by_key(response_times(dimension="person", start=START, end=END))

    assert set(rows) == {"Alice", "api:ci"}
    assert rows["Alice"].incidents == 2
    assert rows["Alice"].tta_mean == pytest.approx(330)
    assert rows["api:ci"].tta_p50 == pytest.approx(120)


def test_team_route_and_receiver_cover_the_incidents_they_reached(history):
    team = _by_key(response_times(dimension="team", start=START, end=END))
    route = _by_key(response_times(dimension="route", start=START, end=END))
    receiver = _by_key(response_times(dimension="receiver", start=START, end=END))

    # The team's policy ran for the three critical incidents.
    assert team["Databases"].incidents == 3
    # The route reached them through its team's policy, and the warning through its receiver.
    assert route["db-route"].incidents == 4
    # Two notifications of one incident count it once.
    assert receiver["slack-db"].incidents == 1
