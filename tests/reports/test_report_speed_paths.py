"""The fast paths of the reports give the figures the plain queries give: a tenant
with more routes than the route bit masks hold, and the overview's minute cache
that still shows a new alert at once."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alerting.reports import selectors
from alerting.reports.selectors import response_times
from escalation.models import EscalationPolicy
from tests.factories import ReceiverFactory, RouteFactory, TeamFactory
from tests.reports.factories import escalated, incident, notified


def test_the_route_breakdown_is_the_same_with_more_routes_than_bits(alpha, monkeypatch):
    policy = EscalationPolicy.objects.create(name="web-policy")
    team = TeamFactory(name="Web", escalation_policy=policy)
    shared = ReceiverFactory(name="shared")
    routes = [RouteFactory(name=f"route-{n}") for n in range(4)]
    for route in routes[:3]:
        route.receivers.add(shared)  # one notification reaches three routes
    RouteFactory(name="team-route", team=team)
    now = timezone.now()
    start, end = now - timedelta(days=7), now + timedelta(hours=1)
    first = incident(at=now - timedelta(days=1), acked_after=60, resolved_after=600)
    second = incident(at=now - timedelta(days=2), acked_after=300)
    notified(group=first, receiver=shared, at=first.first_seen_at)
    notified(group=first, receiver=shared, at=first.first_seen_at + timedelta(minutes=1))
    escalated(group=second, policy=policy)

    with_bits = response_times(dimension="route", start=start, end=end)
    monkeypatch.setattr(selectors, "ROUTE_BITS", 2)  # fewer bits than routes: the plain join
    without = response_times(dimension="route", start=start, end=end)

    assert with_bits == without
    assert {row.key: row.incidents for row in with_bits} == {
        "route-0": 1, "route-1": 1, "route-2": 1, "team-route": 1}
    assert {row.key: row.tta_mean for row in with_bits}["team-route"] == 300


def test_the_overview_shows_a_new_alert_at_once_despite_its_cache(alpha, client_as):
    receiver = ReceiverFactory(name="pager")
    yesterday = timezone.now() - timedelta(days=1)
    group = incident(at=yesterday, alertname="FirstAlert")
    notified(group=group, receiver=receiver, at=yesterday)
    assert "FirstAlert" in client_as("auditor").get("/admin/overview/").content.decode()

    later = incident(at=yesterday + timedelta(hours=1), alertname="SecondAlert")
    notified(group=later, receiver=receiver, at=later.first_seen_at)
    page = client_as("auditor").get("/admin/overview/").content.decode()

    assert "FirstAlert" in page and "SecondAlert" in page
