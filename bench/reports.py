"""Reports over a big history: every report query's median time (goal: under 1 s each).

Fills one tenant with 100,000 incidents (alert groups) and 1,000,000
notifications (ten per incident), escalations, acknowledged pages, people,
teams, routes and receivers, all inside the default 30-day period (the
worst case: every row counts), with INSERT … SELECT generate_series in a few
statements, then runs each report query --runs times and prints the medians.

    createdb -h 127.0.0.1 -U postgres bench_reports
    DATABASE_URL=postgres://postgres@127.0.0.1/bench_reports python bench/reports.py
    dropdb -h 127.0.0.1 -U postgres bench_reports
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")

SLUG = "benchreports"
RECEIVERS, ROUTES, TEAMS, PEOPLE, ALERTNAMES = 8, 6, 4, 12, 400


def _fill(*, incidents: int, per_incident: int) -> None:
    from django.db import connection

    from alerting.models import Route
    from escalation.models import EscalationPolicy, Person, Team
    from receivers.models import Receiver

    receivers = [
        Receiver.objects.create(name=f"receiver-{n}", kind="webhook") for n in range(RECEIVERS)
    ]
    policies = [EscalationPolicy.objects.create(name=f"policy-{n}") for n in range(TEAMS)]
    for n, policy in enumerate(policies):
        Team.objects.create(name=f"team-{n}", escalation_policy=policy)
    for n in range(ROUTES):
        route = Route.objects.create(name=f"route-{n}", position=n,
                                     escalation_policy=policies[n % TEAMS])
        route.receivers.set(receivers[n % RECEIVERS: n % RECEIVERS + 2])
    people = [
        Person.objects.create(user_id=900_000 + n, display_name=f"person-{n}")
        for n in range(PEOPLE)
    ]
    params = {
        "incidents": incidents, "per": per_incident, "names": ALERTNAMES,
        "receivers": [r.id for r in receivers], "policies": [p.id for p in policies],
        "people": [p.id for p in people],
    }
    with connection.cursor() as cursor:
        # Spread over the last 29 days; 70 % acknowledged, 90 % resolved.
        cursor.execute("""
            INSERT INTO alerting_alertgroup (group_key, receiver, status, group_labels,
                common_labels, common_annotations, external_url, firing_count, resolved_count,
                truncated_alerts, first_seen_at, last_seen_at, incident, last_payload,
                acknowledged_at, acknowledged_by, resolved_at, resolved_by)
            SELECT 'g' || s, 'am', CASE WHEN s %% 10 = 0 THEN 'firing' ELSE 'resolved' END,
                jsonb_build_object('alertname', 'Alert' || (s %% %(names)s), 'instance', s),
                jsonb_build_object('alertname', 'Alert' || (s %% %(names)s),
                    'severity', (ARRAY['critical','error','warning','info','crit'])[1 + s %% 5]),
                '{}', '', 1, 0, 0, t, t, 1, '{}',
                CASE WHEN s %% 10 < 7 THEN t + (s %% 3600) * interval '1 second' END,
                CASE WHEN s %% 10 < 7 THEN 'person-' || (s %% 12) ELSE '' END,
                CASE WHEN s %% 10 <> 0 THEN t + (s %% 14400) * interval '1 second' END, ''
            FROM (SELECT s, now() - (s %% 2505600) * interval '1 second' - interval '1 hour' AS t
                  FROM generate_series(1, %(incidents)s) s) x""", params)
        cursor.execute("""
            INSERT INTO escalation_escalation (alert_group_id, policy_id, policy_name, snapshot,
                step, repeats_done, next_step_at, state, started_at)
            SELECT g.id, (%(policies)s::int[])[1 + g.id %% 4], 'p', '{}', 0, 0, g.first_seen_at,
                   'acknowledged', g.first_seen_at FROM alerting_alertgroup g""", params)
        cursor.execute("""
            INSERT INTO escalation_page (escalation_id, alert_group_id, incident, level, person_id,
                person_name, target, rules, next_rule, state, started_at, stopped_at)
            SELECT e.id, g.id, 1, 0, (%(people)s::int[])[1 + g.id %% 12], 'person-' || (g.id %% 12),
                   'on call', '[]', 0,
                   CASE WHEN g.acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'stopped' END,
                   g.first_seen_at, COALESCE(g.acknowledged_at, g.resolved_at)
            FROM alerting_alertgroup g JOIN escalation_escalation e ON e.alert_group_id = g.id""",
            params)
        # Ten notifications per incident: firing ones, the last one resolved.
        cursor.execute("""
            INSERT INTO receivers_notification (receiver_id, receiver_name, channel, alert_group_id,
                status, alerts, acknowledgement, state, attempts, created_at, updated_at,
                next_attempt_at, last_error, is_digest, folded_count, incident,
                recipient_address, contact_kind, group_update)
            SELECT r.id, 'receiver-' || r.n, 'webhook', g.id,
                   CASE WHEN k = %(per)s THEN 'resolved' ELSE 'firing' END, '[]', false,
                   'delivered', 1, g.first_seen_at + k * interval '1 minute', now(), now(), '',
                   false, 0, 1, '', '', ''
            FROM alerting_alertgroup g, generate_series(1, %(per)s) k,
                 LATERAL (SELECT (%(receivers)s::int[])[1 + (g.id + k) %% 8] AS id,
                                 (g.id + k) %% 8 AS n) r""", params)
    _vacuum()


def _vacuum() -> None:
    # What autovacuum does on a live tenant after bulk inserts: statistics, and the
    # visibility map that lets the report indexes answer without visiting the rows.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("alerting_alertgroup", "receivers_notification", "escalation_escalation",
                      "escalation_page", "reports_receiver_incident", "reports_route_incident"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def _queries(*, start, end, zone: str) -> dict:
    from alerting.reports import selectors

    queries = {
        f"response times by {dimension}": (
            lambda dimension=dimension: selectors.response_times(
                dimension=dimension, start=start, end=end)
        )
        for dimension in selectors.DIMENSIONS
    }
    queries["SLA shares"] = lambda: selectors.sla_shares(start=start, end=end)
    queries["noisiest alerts"] = lambda: selectors.noisiest_alerts(start=start, end=end)
    queries["volume by hour"] = lambda: selectors.volume_by_hour(start=start, end=end, zone=zone)
    queries["MTTA/MTTR by week"] = lambda: selectors.weekly_response_times(
        start=start, end=end, zone=zone)
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--per-incident", type=int, default=10, help="notifications each")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("set DATABASE_URL to a database made for this (see --help)")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from alerting.models import AlertGroup
    from alerting.reports.models import SlaTarget
    from alerting.reports.periods import default_period
    from receivers.models import Notification
    from tenants.models import Tenant
    from tenants.services import tenant_create

    call_command("migrate_schemas", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug=SLUG).first() or tenant_create(
        slug=SLUG, name="Benchmark reports", domain=f"{SLUG}.localhost")
    with tenant_context(tenant):
        if not AlertGroup.objects.exists():
            began = time.perf_counter()
            _fill(incidents=args.incidents, per_incident=args.per_incident)
            print(f"filled in {time.perf_counter() - began:.1f} s")
        else:
            _vacuum()
        for severity, minutes in (("critical", 5), ("error", 15), ("warning", 60)):
            SlaTarget.objects.get_or_create(
                severity=severity, defaults={"acknowledge_within_minutes": minutes})
        print(f"{AlertGroup.objects.count():,} incidents, "
              f"{Notification.objects.count():,} notifications")
        start, end = default_period(zone=tenant.time_zone)
        start -= timedelta(days=1)  # every row, whatever the hour
        print(f"{'query':<32} {'median':>9} {'max':>9}")
        worst = 0.0
        for name, run in _queries(start=start, end=end, zone=tenant.time_zone).items():
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                run()
                times.append(time.perf_counter() - began)
            median = statistics.median(times)
            worst = max(worst, median)
            print(f"{name:<32} {median * 1000:>7.0f}ms {max(times) * 1000:>7.0f}ms")
        connection.close()
    print(f"slowest median {worst * 1000:.0f} ms: {'under' if worst < 1 else 'OVER'} 1 s")


if __name__ == "__main__":
    main()
