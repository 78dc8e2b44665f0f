"""People paged by escalation: a clock, a receiver carrying email pages, policies with targets."""

from __future__ import annotations

from datetime import date, time

import pytest

from alerting.models import AlertGroup
from escalation.models import EscalationPolicy
from escalation.services import escalation_tick_run
from tests.factories import (
    EscalationPolicyFactory,
    ReceiverFactory,
    RouteFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


def email_config(*, host: str = "127.0.0.1", port: int = 9) -> dict:
    return {"host": host, "port": port, "security": "none",
            "from_address": "herald@example.com", "to": ["sre-list@example.com"]}


@pytest.fixture
def carrier(alpha):
    """The receiver that carries email pages to people (its own list is sre-list@)."""
    return ReceiverFactory(name="mail", kind="email", carries_pages=True, config=email_config(),
                           secrets={})


def policy_with(levels: list[tuple[int, list[dict]]], **fields) -> EscalationPolicy:
    """A policy whose levels name targets: [(delay_minutes, [{"kind": ..., ...}, ...]), ...]."""
    policy = EscalationPolicyFactory(levels=[(delay, []) for delay, _ in levels], **fields)
    for level, (_, targets) in zip(policy.levels.order_by("position"), levels, strict=True):
        for target in targets:
            level.targets.create(**target)
    return policy


def weekly_rotation(*people, name: str = "Primary"):
    """A schedule whose one layer hands off weekly on Mondays at 09:00 UTC, from START's week."""
    schedule = ScheduleFactory(name=name)
    ScheduleLayerFactory(schedule=schedule, name="weekly", members=list(people),
                         start_date=date(2026, 11, 23), handoff_time=time(9, 0))
    return schedule


@pytest.fixture
def fire(alpha, ingest_key):
    """Post a new alert group through ingest, routed by a route with the given fields."""
    key = ingest_key(alpha)
    routed = set()

    def fire(**route) -> AlertGroup:
        marker = repr(sorted(
            (key, [r.pk for r in value] if isinstance(value, list) else getattr(value, "pk", value))
            for key, value in route.items()
        ))
        if marker not in routed:
            RouteFactory(**{"receivers": [], **route})
            routed.add(marker)
        payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
        assert post(public_client(), payload, key).status_code == 200
        return AlertGroup.objects.get(group_key=payload["groupKey"])

    return fire


def tick() -> int:
    """What the periodic task does for the tenant: every due step and page rule."""
    return escalation_tick_run()
