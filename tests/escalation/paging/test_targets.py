"""A level pages people: whoever is on call, a team, the next in turn, or its fallback.

Each story fires an alert through ingest and runs the tick, as beat would.
"""

from __future__ import annotations

import logging
from datetime import date, time, timedelta

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from escalation.models import EscalationEvent, LayerRestriction, Page, TeamMember
from escalation.paging.targets import MAX_PEOPLE_PER_LEVEL
from receivers.models import Notification
from tenants.models import TenantMembership
from tests.escalation.paging.conftest import policy_with, tick, weekly_rotation
from tests.factories import (
    ContactMethodFactory,
    PersonFactory,
    ScheduleLayerFactory,
    TeamFactory,
)


@pytest.fixture
def people(alpha, carrier):
    return {
        name: PersonFactory(user__username=name, display_name=name.title(),
                            email=f"{name}@example.com")
        for name in ("alice", "bob", "carol", "dave")
    }


def paged() -> list[tuple[str, str]]:
    return list(Page.objects.order_by("id").values_list("person_name", "target"))


def mailed_to() -> list[str]:
    return list(
        Notification.objects.filter(page__isnull=False).order_by("id")
        .values_list("recipient_address", flat=True)
    )


def gaps() -> list[str]:
    return list(
        EscalationEvent.objects.filter(kind="gap").order_by("id").values_list("detail", flat=True)
    )


def gap_count(reason: str) -> float:
    return REGISTRY.get_sample_value(
        "alertmanager_escalation_gaps_total",
        {"tenant": connection.tenant.slug, "policy": "oncall", "reason": reason},
    ) or 0.0


def test_whoever_is_on_call_now_is_paged_with_the_schedule_version_recorded(
    people, fire, clock
):
    primary = weekly_rotation(people["alice"], people["bob"])
    policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])])

    fire(escalation_policy=policy)
    assert tick() == 1

    page = Page.objects.get()
    assert (page.person_name, page.target) == ("Alice", "on call in Primary")
    assert (page.schedule_id, page.schedule_version) == (primary.id, primary.version)
    assert mailed_to() == ["alice@example.com"]
    notification = Notification.objects.get(page=page)
    assert (notification.receiver_name, notification.contact_method.address) == (
        "mail", "alice@example.com")
    event = EscalationEvent.objects.get(kind="page")
    assert event.detail == (
        f"paged Alice (on call in Primary, schedule version {primary.version}): email at once"
    )

    clock.shift(timedelta(days=7))  # the rotation hands over to Bob on Monday 09:00
    fire(escalation_policy=policy)
    tick()
    assert [name for name, _ in paged()] == ["Alice", "Bob"]


def test_a_route_naming_a_team_starts_the_teams_policy(people, fire, clock):
    primary = weekly_rotation(people["bob"])
    team = TeamFactory(name="SRE", members=[people["bob"]])
    team.escalation_policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])])
    team.save()

    fire(team=team)
    tick()

    assert paged() == [("Bob", "on call in Primary")]


def test_round_robin_pages_the_next_member_of_the_team_for_each_incident(people, fire, clock):
    team = TeamFactory(name="SRE", members=[people["alice"], people["bob"], people["carol"]])
    policy = policy_with([(0, [{"kind": "round_robin", "team": team}])])

    for _ in range(4):
        fire(escalation_policy=policy)
        tick()

    assert paged() == [
        ("Alice", "round robin of SRE"), ("Bob", "round robin of SRE"),
        ("Carol", "round robin of SRE"), ("Alice", "round robin of SRE"),
    ]
    team.refresh_from_db()
    assert team.round_robin_last == 0


def test_round_robin_skips_a_member_who_cannot_be_paged_and_says_so(people, fire, clock):
    people["bob"].contact_methods.update(verified_at=None)
    team = TeamFactory(name="SRE", members=[people["alice"], people["bob"], people["carol"]])
    policy = policy_with([(0, [{"kind": "round_robin", "team": team}])])

    fire(escalation_policy=policy)
    tick()
    fire(escalation_policy=policy)
    tick()

    assert [name for name, _ in paged()] == ["Alice", "Carol"]
    assert gaps() == ["round robin of SRE: skipped, Bob has no verified contact method"]


def test_nobody_on_call_pages_the_fallback_and_records_the_gap(people, fire, clock, caplog):
    primary = weekly_rotation(people["alice"], people["bob"])
    # The rotation covers Saturdays only: nobody is on call on this Monday morning.
    LayerRestriction.objects.create(
        layer=primary.layers.get(), weekday=5, start_time=time(9), end_time=time(17)
    )
    policy = policy_with(
        [(0, [{"kind": "on_call", "schedule": primary},
              {"kind": "person", "person": people["dave"], "fallback": True}])],
        name="oncall",
    )
    before = gap_count("nobody_on_call")

    fire(escalation_policy=policy)
    with caplog.at_level(logging.WARNING, logger="escalation.paging.history"):
        tick()

    assert paged() == [("Dave", "named by the policy")]
    assert mailed_to() == ["dave@example.com"]
    assert gaps() == [
        f"nobody on call in Primary (version {primary.version}) at 2026-11-23 10:00 UTC; "
        "next on call at 2026-11-28 09:00 UTC"
    ]
    assert gap_count("nobody_on_call") == before + 1
    assert "nobody on call in Primary" in caplog.text
    notify = EscalationEvent.objects.get(kind="notify")
    assert notify.detail == "0 notification(s) to nobody; 1 person paged"


def test_when_even_the_fallback_finds_nobody_that_is_recorded_too(people, fire, clock):
    team = TeamFactory(name="Empty")
    people["dave"].contact_methods.all().delete()
    policy = policy_with(
        [(0, [{"kind": "team", "team": team},
              {"kind": "person", "person": people["dave"], "fallback": True}])],
        name="oncall",
    )
    before = gap_count("fallback_empty")

    fire(escalation_policy=policy)
    tick()

    assert paged() == [] and mailed_to() == []
    assert gaps() == [
        "member of Empty: the team has no members",
        "fallback: named by the policy: Dave has no verified contact method",
        "fallback: the fallback found nobody either: nobody was paged",
    ]
    assert gap_count("fallback_empty") == before + 1


def test_a_team_pages_every_member_it_can_reach_and_names_the_ones_it_cannot(
    people, fire, clock
):
    TenantMembership.objects.filter(user=people["carol"].user).delete()  # Carol left
    ContactMethodFactory(person=people["dave"], address="dave@home.example", verified_at=None)
    people["dave"].contact_methods.filter(address="dave@example.com").delete()
    team = TeamFactory(name="SRE", members=[people["alice"], people["bob"], people["carol"],
                                             people["dave"]])
    policy = policy_with([(0, [{"kind": "team", "team": team}])])

    fire(escalation_policy=policy)
    tick()

    assert paged() == [("Alice", "member of SRE"), ("Bob", "member of SRE")]
    assert sorted(mailed_to()) == ["alice@example.com", "bob@example.com"]
    assert gaps() == [
        "member of SRE: Carol is no longer a member of this tenant",
        "member of SRE: Dave has no verified contact method",
    ]


def test_a_person_chosen_twice_on_one_level_gets_one_page(people, fire, clock):
    primary = weekly_rotation(people["alice"])
    team = TeamFactory(name="SRE", members=[people["alice"]])
    policy = policy_with([(0, [{"kind": "on_call", "schedule": primary},
                               {"kind": "team", "team": team}])])

    fire(escalation_policy=policy)
    tick()

    assert paged() == [("Alice", "on call in Primary")]
    assert mailed_to() == ["alice@example.com"]


def test_without_a_receiver_carrying_email_pages_the_fallback_is_paged_and_the_gap_shown(
    people, fire, clock, carrier
):
    carrier.carries_pages = False
    carrier.save()
    policy = policy_with(
        [(0, [{"kind": "person", "person": people["alice"]},
              {"kind": "receiver", "receiver": carrier, "fallback": True}])],
    )

    fire(escalation_policy=policy)
    tick()

    assert paged() == []
    assert gaps() == [
        "named by the policy: Alice cannot be paged: no enabled receiver carries email pages"
    ]
    # The fallback receiver hears of it on its own list, as a channel.
    told = Notification.objects.get()
    assert (told.receiver_name, told.page_id, told.recipient_address) == ("mail", None, "")
    assert EscalationEvent.objects.get(kind="notify").detail == (
        "0 notification(s) to mail; 0 people paged"
    )


def test_a_running_chain_keeps_its_targets_when_the_policy_changes(people, fire, clock):
    team = TeamFactory(name="SRE", members=[people["alice"]])
    policy = policy_with([(0, []), (5, [{"kind": "team", "team": team}])])
    fire(escalation_policy=policy)
    tick()

    level = policy.levels.order_by("position").last()
    level.targets.update(kind="person", person=people["bob"], team=None)
    TeamMember.objects.create(team=team, person=people["carol"], position=1)
    clock.shift(timedelta(minutes=5))
    tick()

    # The snapshot's target (the team), with the team as it is now.
    assert paged() == [("Alice", "member of SRE"), ("Carol", "member of SRE")]


def test_on_call_in_one_layer_asks_that_layer_alone(people, fire, clock):
    primary = weekly_rotation(people["alice"])
    override_layer = ScheduleLayerFactory(
        schedule=primary, name="nights", priority=5, members=[people["bob"]],
        start_date=date(2026, 11, 23), handoff_time=time(9, 0),
    )
    days = primary.layers.get(name="weekly")
    policy = policy_with([(0, [{"kind": "on_call", "schedule": primary, "layer": days}]),
                          (5, [{"kind": "on_call", "schedule": primary}])])

    fire(escalation_policy=policy)
    tick()
    clock.shift(timedelta(minutes=5))
    tick()

    # The whole schedule's answer is its highest layer with someone: Bob's.
    assert override_layer.priority > days.priority
    assert paged() == [("Alice", "on call in Primary (layer weekly)"),
                       ("Bob", "on call in Primary")]


def test_a_huge_team_pages_at_most_the_levels_bound_and_says_so(alpha, carrier, fire, clock):
    crowd = [PersonFactory(email=f"p{n}@example.com") for n in range(MAX_PEOPLE_PER_LEVEL + 1)]
    team = TeamFactory(name="Crowd", members=crowd)

    fire(escalation_policy=policy_with([(0, [{"kind": "team", "team": team}])]))
    tick()

    assert Page.objects.count() == MAX_PEOPLE_PER_LEVEL
    assert gaps() == [
        f"member of Crowd: not paged, the level pages at most {MAX_PEOPLE_PER_LEVEL} people"
    ]


def test_one_tick_loads_a_schedule_once_however_many_chains_ask_it(people, fire, clock):
    from django.test.utils import CaptureQueriesContext

    primary = weekly_rotation(people["alice"], people["bob"])
    policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])])
    for _ in range(3):
        fire(escalation_policy=policy)

    with CaptureQueriesContext(connection) as queries:
        assert tick() == 3

    # The snapshot reads the schedule's row once (then only its version, to check).
    schedule_reads = [q["sql"] for q in queries.captured_queries
                      if q["sql"].startswith('SELECT "escalation_schedule"."id"')]
    assert len(schedule_reads) == 1
    due_reads = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    assert len(due_reads) == 1  # due steps and due page rules, in one query
    assert [name for name, _ in paged()] == ["Alice", "Alice", "Alice"]
