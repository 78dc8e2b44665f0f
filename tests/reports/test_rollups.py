"""The receiver and route breakdowns read rollups that PostgreSQL keeps: after every
kind of write that changes what they show, they give exactly what the definition
queries (docs/reports.md, Dimensions) read from the tables give."""

from __future__ import annotations

import importlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from alerting.reports import selectors
from alerting.reports.selectors import response_times
from alerting.services import alert_group_acknowledge, alert_group_resolve
from escalation.models import EscalationPolicy
from tenants.models import Tenant
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    TeamFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client
from tests.reports.factories import escalated, incident, notified

ROLLUPS = importlib.import_module("alerting.reports.migrations.0003_response_time_rollups")
NOW = timezone.now().replace(microsecond=0)
START, END = NOW - timedelta(days=7), NOW + timedelta(days=1)


def figures(dimension: str) -> dict[str, selectors.TimeRow]:
    """The rollup's rows, after checking they are the definition query's."""
    rollup = response_times(dimension=dimension, start=START, end=END)
    assert rollup == response_times(dimension=dimension, start=START, end=END, from_tables=True)
    return {row.key: row for row in rollup}


def counts(dimension: str) -> dict[str, tuple[int, int, int]]:
    return {key: (row.incidents, row.acknowledged, row.resolved)
            for key, row in figures(dimension).items()}


@pytest.fixture
def send(alpha, ingest_key):
    key = ingest_key(alpha)

    def send(status: str = "firing", starts: str = "2026-11-23T10:00:00Z") -> AlertGroup:
        alert = WebhookAlertFactory(
            status=status, labels={"alertname": "DiskFull"}, fingerprint="00000000000d15c0",
            startsAt=starts, endsAt="0001-01-01T00:00:00Z" if status == "firing" else starts)
        payload = WebhookPayloadFactory(alerts=[alert], status=status,
                                        groupKey='{}:{alertname="DiskFull"}')
        assert post(public_client(), payload, key).status_code == 200
        return AlertGroup.objects.get()

    return send


def test_acknowledge_resolve_and_fire_again_through_ingest(send):
    pager = ReceiverFactory(name="pager")
    RouteFactory(name="disks", is_default=True, receivers=[pager])
    send()
    assert counts("receiver") == {"pager": (1, 0, 0)}
    assert counts("route") == {"disks": (1, 0, 0)}

    alert_group_acknowledge(alert_group_id=AlertGroup.objects.get().id, by="alice")
    assert counts("receiver") == {"pager": (1, 1, 0)}
    alert_group_resolve(alert_group_id=AlertGroup.objects.get().id, by="alice")
    assert counts("route") == {"disks": (1, 1, 1)}
    assert figures("route")["disks"].ttr_mean is not None

    # A new incident on the same row: acknowledged_at and resolved_at cleared.
    group = send(starts="2026-11-23T11:00:00Z")
    assert group.incident == 2 and group.acknowledged_at is None
    assert counts("receiver") == {"pager": (1, 0, 0)}
    assert counts("route") == {"disks": (1, 0, 0)}


def test_times_change_by_hand_and_a_group_moves_out_of_the_period(alpha):
    pager = ReceiverFactory(name="pager")
    group = incident(at=NOW - timedelta(days=1), acked_after=60)
    notified(group=group, receiver=pager, at=group.first_seen_at)
    assert figures("receiver")["pager"].tta_mean == 60

    group.acknowledged_at = group.first_seen_at + timedelta(seconds=90)
    group.resolved_at = group.first_seen_at + timedelta(seconds=600)
    group.save()
    assert (figures("receiver")["pager"].tta_mean, figures("receiver")["pager"].ttr_p50) == (
        90, 600)

    AlertGroup.objects.filter(pk=group.pk).update(first_seen_at=START - timedelta(days=1))
    assert figures("receiver") == {}


def test_a_notification_to_a_new_receiver_and_a_renamed_receiver(alpha):
    slack, mail = ReceiverFactory(name="slack"), ReceiverFactory(name="mail")
    route = RouteFactory(name="web", receivers=[slack, mail])
    group = incident(at=NOW - timedelta(hours=5), acked_after=120)
    notified(group=group, receiver=slack, at=group.first_seen_at)
    notified(group=group, receiver=slack, at=group.first_seen_at + timedelta(minutes=1))
    assert counts("receiver") == {"slack": (1, 1, 0)}

    notified(group=group, receiver=mail, at=group.first_seen_at + timedelta(minutes=2))
    assert counts("receiver") == {"slack": (1, 1, 0), "mail": (1, 1, 0)}
    assert counts("route") == {"web": (1, 1, 0)}  # one incident, whatever the receivers

    # Renamed: its past notifications keep the name they were sent under.
    slack.name = "slack-ops"
    slack.save()
    assert counts("receiver") == {"slack": (1, 1, 0), "mail": (1, 1, 0)}
    notified(group=group, receiver=slack, at=group.first_seen_at + timedelta(minutes=3))
    assert set(counts("receiver")) == {"slack", "slack-ops", "mail"}
    route.name = "web-renamed"
    route.save()
    assert counts("route") == {"web-renamed": (1, 1, 0)}


def test_routes_changed_after_the_fact(alpha):
    policy, other = (EscalationPolicy.objects.create(name="db-policy"),
                     EscalationPolicy.objects.create(name="other-policy"))
    team = TeamFactory(name="Databases", escalation_policy=other)
    pager = ReceiverFactory(name="pager")
    first = incident(at=NOW - timedelta(days=1), acked_after=60, resolved_after=600)
    second = incident(at=NOW - timedelta(days=2), acked_after=300)
    notified(group=first, receiver=pager, at=first.first_seen_at)
    escalated(group=second, policy=policy)
    route = RouteFactory(name="db")
    assert counts("route") == {}

    route.receivers.add(pager)  # the past notifications count now
    assert counts("route") == {"db": (1, 1, 1)}
    route.escalation_policy = policy
    route.save()
    assert counts("route") == {"db": (2, 2, 1)}
    route.receivers.remove(pager)
    assert counts("route") == {"db": (1, 1, 0)}
    route.escalation_policy = None
    route.team = team
    route.save()
    assert counts("route") == {}
    team.escalation_policy = policy  # the team's policy is the one that ran
    team.save()
    assert counts("route") == {"db": (1, 1, 0)}
    escalated(group=first, policy=other)  # a new escalation of another policy: no change
    assert counts("route") == {"db": (1, 1, 0)}
    escalated(group=first, policy=policy)
    assert counts("route") == {"db": (2, 2, 1)}

    route.delete()
    assert counts("route") == {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_route_incident")
        assert cursor.fetchone()[0] == 0


def _route_db_notified_and_escalated():
    """Route "db": one incident reached it by its receiver "pager", another by its policy."""
    policy = EscalationPolicy.objects.create(name="db-policy")
    pager = ReceiverFactory(name="pager")
    RouteFactory(name="db", receivers=[pager], escalation_policy=policy)
    first = incident(at=NOW - timedelta(days=1), acked_after=60)
    second = incident(at=NOW - timedelta(days=2), acked_after=300)
    notified(group=first, receiver=pager, at=first.first_seen_at)
    escalation = escalated(group=second, policy=policy)
    assert counts("route") == {"db": (2, 2, 0)}
    return policy, pager, second, escalation


def test_deleted_receivers_policies_and_escalations(alpha):
    policy, pager, second, escalation = _route_db_notified_and_escalated()

    escalation.delete()
    assert counts("route") == {"db": (1, 1, 0)}
    escalated(group=second, policy=policy)
    policy.delete()  # the route's and the escalation's policy set NULL
    assert counts("route") == {"db": (1, 1, 0)}
    pager.delete()  # its notifications keep its name, the route loses it
    assert counts("receiver") == {"pager": (1, 1, 0)}
    assert counts("route") == {}


def test_more_routes_than_bits_and_a_notification_moved_to_another_group(alpha, monkeypatch):
    shared = ReceiverFactory(name="shared")
    for n in range(4):
        RouteFactory(name=f"route-{n}", receivers=[shared] if n < 3 else [])
    first = incident(at=NOW - timedelta(days=1), acked_after=60)
    second = incident(at=NOW - timedelta(days=2), acked_after=300)
    moved = notified(group=first, receiver=shared, at=first.first_seen_at)
    monkeypatch.setattr(selectors, "ROUTE_BITS", 2)  # the definition's plain join
    assert counts("route") == {f"route-{n}": (1, 1, 0) for n in range(3)}

    moved.alert_group = second
    moved.save()
    assert figures("route")["route-0"].tta_mean == 300
    moved.delete()
    assert counts("route") == {} and counts("receiver") == {}


def test_the_backfill_builds_the_rows_of_an_existing_history(alpha, monkeypatch):
    policy = EscalationPolicy.objects.create(name="db-policy")
    pager, chat = ReceiverFactory(name="pager"), ReceiverFactory(name="chat")
    RouteFactory(name="db", receivers=[pager], escalation_policy=policy)
    RouteFactory(name="chat", receivers=[chat])
    for n in range(30):
        group = incident(at=NOW - timedelta(hours=n), acked_after=n * 10 or None,
                         resolved_after=n * 100 if n % 3 else None)
        notified(group=group, receiver=pager if n % 2 else chat, at=group.first_seen_at)
        if n % 5 == 0:
            escalated(group=group, policy=policy)
    expected = {dimension: figures(dimension) for dimension in ("receiver", "route")}
    with connection.cursor() as cursor:  # a tenant upgrading: its history, no rollup rows yet
        cursor.execute("TRUNCATE reports_receiver_incident, reports_route_incident")
    assert response_times(dimension="route", start=START, end=END) == []

    monkeypatch.setattr(ROLLUPS, "BATCH", 7)  # several batches
    ROLLUPS.backfill(connection)

    assert {dimension: figures(dimension) for dimension in ("receiver", "route")} == expected
    assert expected["route"]["db"].incidents == 18  # 15 notified, 3 more escalated


def test_a_truncated_source_table_empties_or_rebuilds_the_rollups(alpha):
    """An operator who empties a table (TRUNCATE fires no row trigger) leaves no
    stale rollup rows behind: ids start again at 1, and an old row would count."""
    _, pager, _, _ = _route_db_notified_and_escalated()

    with connection.cursor() as cursor:
        # The test's transaction holds the rows' deferred foreign-key checks,
        # which TRUNCATE refuses to leave pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE receivers_notification CASCADE")
    assert counts("receiver") == {}
    assert counts("route") == {"db": (1, 1, 0)}  # the escalation still counts

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE alerting_alertgroup RESTART IDENTITY CASCADE")
    again = incident(at=NOW - timedelta(days=3), acked_after=600)  # id 1 again
    notified(group=again, receiver=pager, at=again.first_seen_at)
    assert counts("route") == {"db": (1, 1, 0)}
    assert figures("receiver")["pager"].tta_mean == 600


def test_a_cloned_tenant_schema_has_the_rollup_triggers(alpha):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid "
            "WHERE c.relnamespace = %s::regnamespace AND tg.tgname LIKE 'reports_%%'",
            [alpha.schema_name])
        assert {name for (name,) in cursor.fetchall()} == set(ROLLUPS._TRIGGERS)


def test_a_restored_tenant_has_the_same_breakdowns(alpha, tmp_path, monkeypatch):
    """A restore loads the rows with qualified INSERTs from the public schema: the
    triggers rebuild the rollups (they are not in the file) in the new schema."""
    policy = EscalationPolicy.objects.create(name="db-policy")
    team = TeamFactory(name="Databases", escalation_policy=policy)
    pager, chat = ReceiverFactory(name="pager"), ReceiverFactory(name="chat")
    RouteFactory(name="db", receivers=[pager], team=team)
    RouteFactory(name="chat", receivers=[chat])
    for n in range(6):
        group = incident(at=NOW - timedelta(hours=n), acked_after=30 * (n + 1),
                         resolved_after=600 if n % 2 else None)
        notified(group=group, receiver=pager if n % 2 else chat, at=group.first_seen_at)
        if n % 3 == 0:
            escalated(group=group, policy=policy)
    expected = {dimension: figures(dimension) for dimension in ("receiver", "route")}
    path = tmp_path / "alpha.herald-backup"
    monkeypatch.setenv("BACKUP_PASSPHRASE", "correct horse battery staple")
    call_command("tenant_backup", tenant="alpha", out=str(path),
                 passphrase_env="BACKUP_PASSPHRASE", stdout=io.StringIO())
    call_command("tenant_restore", source=str(path), passphrase_env="BACKUP_PASSPHRASE",
                 slug="alpha-reports", domain="alpha-reports.localhost", stdout=io.StringIO())

    with tenant_context(Tenant.objects.get(slug="alpha-reports")):
        assert {dimension: figures(dimension) for dimension in ("receiver", "route")} == expected
    assert expected["route"]["db"].incidents == 4 and expected["receiver"]["chat"].incidents == 3
