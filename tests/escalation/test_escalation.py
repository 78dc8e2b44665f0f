"""An escalation walks its levels on time, once each, until someone acknowledges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from alerting.models import AlertGroup
from alerting.services import alert_group_acknowledge
from escalation.models import BusinessHoursWindow, Escalation, EscalationEvent
from escalation.services import escalation_ids_due, escalation_step_run
from receivers.models import Notification
from tests.escalation.conftest import START
from tests.factories import (
    EscalationPolicyFactory,
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


@pytest.fixture
def oncall(alpha):
    """first, then second after 5 minutes, then manager 10 minutes after that."""
    return {name: ReceiverFactory(name=name) for name in ("first", "second", "manager")}


@pytest.fixture
def fire(alpha, ingest_key, clock):
    key = ingest_key(alpha)

    def fire(policy):
        RouteFactory(receivers=[], escalation_policy=policy)
        payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
        assert post(public_client(), payload, key).status_code == 200
        return AlertGroup.objects.get(group_key=payload["groupKey"])

    return fire


def tick() -> int:
    """What the periodic task does for one tenant: run every due step."""
    due = escalation_ids_due(now=timezone.now())
    return sum(escalation_step_run(escalation_id=escalation_id) for escalation_id in due)


def told() -> list[str]:
    return list(Notification.objects.order_by("id").values_list("receiver_name", flat=True))


def policy_for(oncall, **fields):
    return EscalationPolicyFactory(
        levels=[(0, [oncall["first"]]), (5, [oncall["second"]]), (10, [oncall["manager"]])],
        **fields,
    )


def test_levels_run_in_order_each_after_its_delay(oncall, fire, clock):
    fire(policy_for(oncall))

    assert tick() == 1 and told() == ["first"]
    clock.shift(timedelta(minutes=4, seconds=59))
    assert tick() == 0 and told() == ["first"]
    clock.shift(timedelta(seconds=1))
    assert tick() == 1 and told() == ["first", "second"]
    clock.shift(timedelta(minutes=10))
    assert tick() == 1 and told() == ["first", "second", "manager"]
    clock.shift(timedelta(hours=1))
    assert tick() == 0
    assert Escalation.objects.get().state == "finished"


@pytest.mark.parametrize("acknowledged_after_level", [1, 2])
def test_acknowledging_stops_the_chain_at_any_level(oncall, fire, clock,
                                                    acknowledged_after_level):
    group = fire(policy_for(oncall))
    for _ in range(acknowledged_after_level):
        tick()
        clock.shift(timedelta(minutes=10))

    alert_group_acknowledge(alert_group_id=group.id, by="alice")
    clock.shift(timedelta(hours=1))

    assert tick() == 0
    assert len(told()) == acknowledged_after_level
    assert Escalation.objects.get().state == "acknowledged"


def test_the_chain_repeats_as_often_as_the_policy_says(oncall, fire, clock):
    fire(EscalationPolicyFactory(levels=[(0, [oncall["first"]]), (5, [oncall["second"]])],
                                 repeat_count=1))
    for _ in range(6):
        tick()
        clock.shift(timedelta(minutes=5))

    assert told() == ["first", "second", "first", "second"]
    assert Escalation.objects.get().state == "finished"


def test_a_step_runs_once_however_many_tasks_ask_for_it(oncall, fire, clock):
    fire(policy_for(oncall))
    escalation = Escalation.objects.get()

    # The ETA task, the periodic tick and a duplicate delivery all arrive.
    ran = [
        escalation_step_run(escalation_id=escalation.id, step=0, repeats_done=0),
        escalation_step_run(escalation_id=escalation.id),
        escalation_step_run(escalation_id=escalation.id, step=0, repeats_done=0),
    ]

    assert ran == [True, False, False]
    assert told() == ["first"]


def test_after_a_restart_the_timers_come_back_from_the_database(oncall, fire, clock):
    fire(policy_for(oncall))
    tick()
    # Every process restarts: ETA tasks are gone, only the rows remain.
    clock.shift(timedelta(hours=2))

    assert tick() == 1  # the overdue step runs, once
    assert tick() == 0  # the next one waits its own delay from now
    clock.shift(timedelta(minutes=10))
    assert tick() == 1
    assert told() == ["first", "second", "manager"]
    assert EscalationEvent.objects.filter(kind="notify").count() == 3


def test_a_running_chain_keeps_the_policy_it_started_with(oncall, fire, clock):
    policy = policy_for(oncall)
    fire(policy)
    policy.levels.all().delete()

    for _ in range(3):
        tick()
        clock.shift(timedelta(minutes=10))

    assert told() == ["first", "second", "manager"]


def test_a_resolved_group_stops_its_chain(oncall, fire, clock, alpha, ingest_key):
    group = fire(policy_for(oncall))
    tick()
    resolved = {**group.last_payload, "status": "resolved"}
    resolved["alerts"] = [{**a, "status": "resolved", "endsAt": "2026-11-23T10:01:00Z"}
                          for a in resolved["alerts"]]
    post(public_client(), resolved, ingest_key(alpha))

    clock.shift(timedelta(hours=1))
    assert tick() == 0
    assert Escalation.objects.get().state == "resolved"


@pytest.mark.parametrize(
    ("time_zone", "first_level_at"),
    [
        # 10:00 UTC Monday is 11:00 in Berlin (open) and 05:00 in New York (closed).
        ("Europe/Berlin", START),
        ("America/New_York", datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),  # 09:00 New York
    ],
)
def test_inside_business_hours_only_waits_for_the_tenants_opening_time(
    oncall, fire, clock, alpha, time_zone, first_level_at
):
    alpha.time_zone = time_zone
    alpha.save(update_fields=["time_zone"])
    for weekday in range(5):
        BusinessHoursWindow.objects.create(weekday=weekday, start=time(9), end=time(17))
    fire(policy_for(oncall, business_hours="inside"))

    tick()

    escalation = Escalation.objects.get()
    if first_level_at == START:
        assert told() == ["first"]
    else:
        assert told() == []
        assert escalation.next_step_at == first_level_at
        clock.move_to(first_level_at)
        assert tick() == 1 and told() == ["first"]
