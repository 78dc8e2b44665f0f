"""The README's on-call example (samples/oncall.yaml): deployed, it pages the people it says."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from alerting.models import Route
from escalation.models import EscalationPolicy, Person, Schedule, Team
from escalation.schedules.snapshot import schedule_on_call_now
from receivers.models import Receiver
from tests.config.oncall_helpers import (
    SAMPLES,
    deploy,
    members_of_the_tenant,
)

BERLIN = ZoneInfo("Europe/Berlin")



@pytest.fixture
def deployed(alpha, env) -> str:
    members_of_the_tenant("alice", "bob", "carol")
    return deploy(SAMPLES / "oncall.yaml")


def on_call(schedule: Schedule, *wall_clock: int) -> tuple[list[str], str]:
    """Who is on call at a Berlin wall-clock time, by name, and why."""
    result = schedule_on_call_now(
        schedule_id=schedule.pk, at=datetime(*wall_clock, tzinfo=BERLIN)
    )
    names = dict(Person.objects.values_list("id", "display_name"))
    return [names[person] for person in result.people], result.source


def test_deploying_the_example_creates_the_team_its_rotation_and_its_policy(deployed):
    assert deployed.splitlines() == [
        "+ receivers/pager-mail",
        "+ people/alice",
        "+ people/bob",
        "+ people/carol",
        "+ teams/payments",
        "+ schedules/payments-primary",
        "+ escalation_policies/payments-pages",
        "+ routes/payments",
        "8 created, 0 changed, 0 removed",
    ]
    assert Receiver.objects.get(name="pager-mail").carries_pages

    alice = Person.objects.get(display_name="Alice Adams")
    assert alice.time_zone == "Europe/Berlin"
    methods = {m.label: m for m in alice.contact_methods.all()}
    # The private address came from the environment; nobody confirmed either yet.
    assert methods["private"].address == "alice.private@example.org"
    assert not methods["work"].verified and not methods["private"].verified
    assert [(rule.contact_method.label, rule.delay_minutes)
            for rule in alice.notification_rules.order_by("delay_minutes")] == [
        ("work", 0), ("private", 5),
    ]

    team = Team.objects.get(name="payments")
    assert [(m.person.display_name, m.role) for m in team.memberships.order_by("position")] == [
        ("Alice Adams", "lead"), ("Bob Berg", "member"), ("Carol Chen", "member"),
    ]
    assert team.escalation_policy.name == "payments-pages"
    assert Route.objects.get(name="payments").team == team

    policy = EscalationPolicy.objects.get(name="payments-pages")
    first, second = policy.levels.order_by("position")
    assert [(t.kind, t.fallback, str(t.schedule or t.person)) for t in first.targets.all()] == [
        ("on_call", False, "payments-primary"), ("person", True, "Alice Adams"),
    ]
    assert second.delay_minutes == 15
    assert [(t.kind, str(t.person)) for t in second.targets.all()] == [("person", "Alice Adams")]


def test_the_rotation_hands_off_on_mondays_at_nine_berlin_time_with_the_weekend_override(
    deployed,
):
    schedule = Schedule.objects.get(name="payments-primary")
    assert schedule.team.name == "payments" and schedule.version > 1

    assert on_call(schedule, 2026, 1, 5, 9, 0) == (["Alice Adams"], "layer")
    assert on_call(schedule, 2026, 1, 12, 8, 59) == (["Alice Adams"], "layer")
    assert on_call(schedule, 2026, 1, 12, 9, 0) == (["Bob Berg"], "layer")
    assert on_call(schedule, 2026, 1, 16, 23, 0) == (["Bob Berg"], "layer")
    # Bob's weekend is Carol's, by the override.
    assert on_call(schedule, 2026, 1, 17, 9, 0) == (["Carol Chen"], "override")
    assert on_call(schedule, 2026, 1, 18, 22, 0) == (["Carol Chen"], "override")
    assert on_call(schedule, 2026, 1, 19, 9, 0) == (["Carol Chen"], "layer")
    assert on_call(schedule, 2026, 1, 26, 9, 0) == (["Alice Adams"], "layer")
    # After the clocks go forward (29 March), the handoff is still at nine in Berlin.
    assert on_call(schedule, 2026, 3, 30, 8, 59) == (["Carol Chen"], "layer")
    assert on_call(schedule, 2026, 3, 30, 9, 0) == (["Alice Adams"], "layer")


@pytest.mark.parametrize("level", ["basic", "standard", "strict", "paranoid"])
def test_the_example_is_valid_at_every_level(env, level):
    out = StringIO()
    call_command("validate_config", str(SAMPLES / "oncall.yaml"), level=level,
                 stdout=out)
    assert f"valid at level {level}" in out.getvalue()
    # Its rotation covers every hour of the next 12 weeks in equal shares, and the page
    # carrier counts as used: only the usernames wait for a tenant to be checked.
    warnings = [line.split(": warning: ")[1] for line in out.getvalue().splitlines()
                if ": warning: " in line]
    assert warnings == ([] if level == "basic" else [
        "people: usernames not checked against a tenant's members: pass --tenant"
    ])
