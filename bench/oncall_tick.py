"""The escalation tick over 10,000 active chains with schedule targets: how long one tick takes.

Every chain's next level pages whoever is on call in one of ten schedules
(two layers of five people, forty overrides each), with the team's lead as
the fallback; each chain's current page has a second notification rule
pending. A share of the chains (and of the pages' rules) is due: the tick
runs those steps (locks, on-call, pages, notifications, history, audit,
ETA tasks to a broker) and finds the rest not due. Rounds reset the due
work and run the tick again; the median and the slowest are printed.
Goal: under 1 s.

    make bench-oncall    (after bench/oncall.py), or
    .venv/bin/python bench/oncall_tick.py --chains 10000 --due 0.02 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from datetime import time as wall
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The tick's ETA tasks go to a queue of the benchmark's own (nobody consumes it).
os.environ["HERALD_CELERY_QUEUE"] = f"bench-oncall-{uuid.uuid4().hex[:8]}"

from bench.common import bench_environment

SLUG = "bench-oncall"
SCHEDULES = 10
PEOPLE_PER_LAYER = 5
OVERRIDES = 40


def _people(count: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from escalation.models import ContactMethod, NotificationRule, Person
    from tenants.models import TenantMembership

    users = [
        get_user_model().objects.get_or_create(username=f"bench-oncall-{n}")[0]
        for n in range(count)
    ]
    for user in users:
        TenantMembership.objects.get_or_create(
            user=user, tenant=connection.tenant, defaults={"role": "member"}
        )
    people = []
    for user in users:
        person = Person.objects.create(user_id=user.id, display_name=user.username)
        work = ContactMethod.objects.create(
            person=person, kind="email", address=f"{user.username}@work.example",
            verified_at=timezone.now(),
        )
        home = ContactMethod.objects.create(
            person=person, kind="email", address=f"{user.username}@home.example",
            verified_at=timezone.now(),
        )
        NotificationRule.objects.create(person=person, contact_method=work, delay_minutes=0)
        NotificationRule.objects.create(person=person, contact_method=home, delay_minutes=5)
        people.append(person)
    return people


def _policies(people, now):
    """Ten teams, each with a schedule (two weekly layers, overrides) and a policy."""
    from escalation.models import (
        EscalationPolicy,
        LayerMember,
        Schedule,
        ScheduleLayer,
        ScheduleOverride,
        Team,
    )

    policies = []
    for n in range(SCHEDULES):
        members = people[n * PEOPLE_PER_LAYER:(n + 1) * PEOPLE_PER_LAYER]
        team = Team.objects.create(name=f"team-{n}")
        for position, person in enumerate(members):
            team.memberships.create(person=person, position=position,
                                    role="lead" if position == 0 else "member")
        schedule = Schedule.objects.create(name=f"schedule-{n}", time_zone="Europe/Berlin",
                                           team=team)
        for priority, (name, hour) in enumerate((("days", 9), ("nights", 21))):
            layer = ScheduleLayer.objects.create(
                schedule=schedule, name=name, priority=priority, start_date=date(2026, 1, 5),
                handoff_time=wall(hour), shift_length=1, shift_unit="weeks",
            )
            LayerMember.objects.bulk_create(
                LayerMember(layer=layer, person=person, position=position)
                for position, person in enumerate(members)
            )
        ScheduleOverride.objects.bulk_create(
            ScheduleOverride(schedule=schedule, kind="replace", person=members[k % 5],
                             start=now + timedelta(hours=6 * k),
                             end=now + timedelta(hours=6 * k + 3))
            for k in range(OVERRIDES)
        )
        policy = EscalationPolicy.objects.create(name=f"policy-{n}")
        for position, delay in enumerate((0, 5, 10)):
            level = policy.levels.create(position=position, delay_minutes=delay)
            level.targets.create(kind="on_call", schedule=schedule)
            level.targets.create(kind="person", person=members[0], fallback=True)
        team.escalation_policy = policy
        team.save()
        policies.append(policy)
    return policies


def setup(chains: int, due: float):
    """The tenant's chains, their groups and level-1 pages; the ids of the due ones."""
    from django.db import connection
    from django.utils import timezone

    from alerting.models import Alert, AlertGroup
    from escalation.models import ContactMethod, Escalation, Page
    from escalation.services import policy_snapshot
    from receivers.models import Receiver

    now = timezone.now()
    Receiver.objects.create(name="mail", kind="email", carries_pages=True, config={
        "host": "127.0.0.1", "port": 9, "security": "none",
        "from_address": "herald@example.com", "to": ["sre@example.com"]})
    people = _people(SCHEDULES * PEOPLE_PER_LAYER)
    policies = _policies(people, now)
    snapshots = [policy_snapshot(policy) for policy in policies]
    groups = AlertGroup.objects.bulk_create(
        AlertGroup(group_key=f"bench-{n}", receiver="herald", status="firing",
                   first_seen_at=now, last_seen_at=now, last_payload={},
                   common_labels={"alertname": "BenchOnCall"}, firing_count=1)
        for n in range(chains)
    )
    Alert.objects.bulk_create(
        Alert(fingerprint=f"{n:016x}", group=group, status="firing",
              labels={"alertname": "BenchOnCall", "n": str(n)}, starts_at=now, first_seen_at=now,
              last_seen_at=now)
        for n, group in enumerate(groups)
    )
    every = max(1, round(1 / due)) if due else chains + 1
    escalations = Escalation.objects.bulk_create(
        Escalation(alert_group=group, policy=policies[n % SCHEDULES],
                   policy_name=policies[n % SCHEDULES].name, snapshot=snapshots[n % SCHEDULES],
                   step=1, next_step_at=now + timedelta(hours=1))
        for n, group in enumerate(groups)
    )
    home = {
        method.person_id: method.id
        for method in ContactMethod.objects.filter(address__endswith="@home.example")
    }

    def rules(person) -> list[dict]:
        return [{"contact_method_id": 0, "kind": "email", "address": "-", "delay_minutes": 0,
                 "state": "sent"},
                {"contact_method_id": home[person.id], "kind": "email",
                 "address": f"{person.display_name}@home.example", "delay_minutes": 5,
                 "state": "due"}]

    pages = Page.objects.bulk_create(
        Page(escalation=escalation, alert_group_id=escalation.alert_group_id, incident=1,
             level=1, person=person, person_name=person.display_name,
             target="on call in bench", next_rule=1, next_rule_at=now + timedelta(hours=1),
             rules=rules(person))
        for n, escalation in enumerate(escalations)
        for person in [people[(n % SCHEDULES) * PEOPLE_PER_LAYER]]
    )
    # Due: every `every`-th chain's next step, and the page rules of others as many.
    due_steps = [e.id for n, e in enumerate(escalations) if n % every == 0]
    due_pages = [p.id for n, p in enumerate(pages) if n % every == every // 2]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return due_steps, due_pages, [page.id for page in pages]


def reset(due_steps, due_pages, setup_pages, high_water) -> None:
    """Put the due work back as it was before the tick (what the tick made is deleted)."""
    from django.utils import timezone

    from escalation.models import Escalation, EscalationEvent, Page
    from receivers.models import Notification

    now = timezone.now()
    Notification.objects.filter(id__gt=high_water["notification"]).delete()
    EscalationEvent.objects.filter(id__gt=high_water["event"]).delete()
    Page.objects.filter(id__gt=high_water["page"]).delete()
    Escalation.objects.filter(id__in=due_steps).update(
        step=1, state="active", next_step_at=now - timedelta(seconds=1), stopped_at=None)
    Page.objects.filter(id__in=setup_pages).update(
        state="active", next_rule=1, next_rule_at=now + timedelta(hours=1), stopped_at=None)
    Page.objects.filter(id__in=due_pages).update(next_rule_at=now - timedelta(seconds=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=10_000)
    parser.add_argument("--due", type=float, default=0.02,
                        help="share of chains whose step is due (and as many page rules)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    environment = bench_environment()
    try:
        _run(args, environment)
    finally:
        environment.close()


def _run(args, environment) -> None:
    from django.db.models import Max
    from django_tenants.utils import tenant_context

    from alerting.infra.celery import app
    from escalation.models import EscalationEvent, Page
    from escalation.services import escalation_tick_run
    from receivers.models import Notification
    from tenants.models import Tenant
    from tenants.services import tenant_create

    app.conf.broker_url = environment.env["CELERY_BROKER_URL"]
    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        old.delete(force_drop=True)
    tenant = tenant_create(slug=SLUG, name="Benchmark on-call", domain=f"{SLUG}.localhost")
    try:
        with tenant_context(tenant):
            started = time.perf_counter()
            due_steps, due_pages, setup_pages = setup(args.chains, args.due)
            print(f"set up {args.chains} chains in {time.perf_counter() - started:.1f} s; "
                  f"due per tick: {len(due_steps)} steps, {len(due_pages)} page rules")
            high_water = {
                "notification": Notification.objects.aggregate(m=Max("id"))["m"] or 0,
                "event": EscalationEvent.objects.aggregate(m=Max("id"))["m"] or 0,
                "page": Page.objects.aggregate(m=Max("id"))["m"] or 0,
            }
            times, ran = [], 0
            for _ in range(args.rounds + 1):  # the first warms up (plans, imports)
                reset(due_steps, due_pages, setup_pages, high_water)
                started = time.perf_counter()
                ran = escalation_tick_run()
                times.append(time.perf_counter() - started)
            times = times[1:]
            print(f"escalation tick over {args.chains} active chains with schedule targets: "
                  f"median {statistics.median(times):.3f} s, slowest {max(times):.3f} s "
                  f"({ran} due steps and page rules ran per tick; goal < 1 s)")
    finally:
        app.control.purge()
        tenant.delete(force_drop=True)


if __name__ == "__main__":
    main()
