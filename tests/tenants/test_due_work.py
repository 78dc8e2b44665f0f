"""Periodic work costs what is due: the ticks visit the tenants the due-work index names.

Each writer of due work lowers its tenant's entry; a visit recomputes it from
the tenant's tables; the slow full sweep finds what was written behind the
index's back.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.due import window_next_end
from alerting.infra.celery import app
from alerting.models import AlertGroup
from alerting.services import silence_create
from alerting.silencing import OneOffWindow, WeeklyWindow
from escalation.models import Escalation
from receivers.delivery import notifications_enqueue
from receivers.models import Notification
from tenants.due_ticks import due_work_reindex, due_work_tick, tenant_ids_all
from tenants.due_work import due_work_claim, due_work_note, due_work_settle
from tenants.models_due import DueKind, TenantDueWork
from tests.factories import (
    EscalationPolicyFactory,
    NotificationFactory,
    ReceiverFactory,
    RouteFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


def due_at(tenant, kind) -> datetime | None:
    entry = TenantDueWork.objects.filter(tenant=tenant, kind=kind).first()
    return entry.due_at if entry else None


@pytest.fixture
def visited(monkeypatch) -> list[str]:
    """The tenant schemas the code under test switched into (django-tenants' set_tenant).

    Ticks run in the public schema, as beat's tasks do; going back to it is not a visit.
    """
    schemas: list[str] = []
    wrapper = type(connections["default"])
    original = wrapper.set_tenant
    # Only this thread's: a session's test worker may run a task the tick enqueued.
    test_thread = threading.get_ident()

    def set_tenant(self, tenant, *args, **kwargs):
        if tenant.schema_name != "public" and threading.get_ident() == test_thread:
            schemas.append(tenant.schema_name)
        return original(self, tenant, *args, **kwargs)

    monkeypatch.setattr(wrapper, "set_tenant", set_tenant)
    return schemas


# --- writers -----------------------------------------------------------------


def test_a_silence_makes_the_sweep_due_when_it_ends(alpha, django_capture_on_commit_callbacks):
    ends = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        silence_create(matchers='alertname="Disk"', created_by="sre",
                       starts_at=timezone.now(), ends_at=ends)

    assert due_at(alpha, DueKind.SILENCES) == ends


def test_a_weekly_window_is_due_at_its_next_end_in_its_own_time_zone():
    window = WeeklyWindow(frozenset({0}), time(22, 0), time(2, 0), "Europe/Berlin")
    monday_noon = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Berlin

    # The next 02:00 in Berlin (01:00 UTC): never later than the window's real end.
    assert window_next_end(window, monday_noon) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert window_next_end(OneOffWindow(monday_noon - timedelta(hours=2), monday_noon),
                           monday_noon) is None


def test_enqueued_notifications_make_the_sweep_due(alpha, django_capture_on_commit_callbacks):
    notification = NotificationFactory()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        notifications_enqueue(notification_ids=[notification.id])

    assert before <= due_at(alpha, DueKind.NOTIFICATIONS) <= timezone.now()


def test_an_escalation_step_makes_the_tick_due_at_its_time(
    alpha, ingest_key, django_capture_on_commit_callbacks
):
    first, second = ReceiverFactory(name="first"), ReceiverFactory(name="second")
    RouteFactory(receivers=[], escalation_policy=EscalationPolicyFactory(
        levels=[(0, [first]), (5, [second])]))
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(public_client(), payload, ingest_key(alpha)).status_code == 200

    escalation = Escalation.objects.get(
        alert_group=AlertGroup.objects.get(group_key=payload["groupKey"]))
    assert due_at(alpha, DueKind.ESCALATION) <= escalation.next_step_at


def test_a_writer_only_ever_lowers_an_entry(alpha, django_capture_on_commit_callbacks):
    soon, later = timezone.now() + timedelta(minutes=1), timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        due_work_note(kind=DueKind.ESCALATION, due_at=soon)
        due_work_note(kind=DueKind.ESCALATION, due_at=later)

    assert due_at(alpha, DueKind.ESCALATION) == soon


# --- visits ------------------------------------------------------------------


def lost_notification(tenant, *, noted: bool, capture) -> Notification:
    """A pending notification whose task was lost three minutes ago."""
    with tenant_context(tenant):
        notification = NotificationFactory(next_attempt_at=timezone.now() - timedelta(minutes=3))
        if noted:
            with capture(execute=True):
                due_work_note(kind=DueKind.NOTIFICATIONS, due_at=notification.next_attempt_at)
    return notification


def next_attempt(tenant, notification) -> datetime:
    with tenant_context(tenant):
        return Notification.objects.get(id=notification.id).next_attempt_at


def test_a_tick_visits_only_the_tenants_with_something_due(
    alpha, beta, visited, django_capture_on_commit_callbacks
):
    in_alpha = lost_notification(alpha, noted=True, capture=django_capture_on_commit_callbacks)
    lost_at = in_alpha.next_attempt_at
    connections["default"].set_schema_to_public()
    visited.clear()

    result = due_work_tick(kind=DueKind.NOTIFICATIONS)

    assert result.claimed == 1
    assert visited == [alpha.schema_name]
    assert next_attempt(alpha, in_alpha) > lost_at  # swept: enqueued again
    # The entry now says what alpha's tables say: that notification, pending again.
    assert due_at(alpha, DueKind.NOTIFICATIONS) == next_attempt(alpha, in_alpha)
    visited.clear()
    assert due_work_tick(kind=DueKind.NOTIFICATIONS).claimed == 0
    assert visited == []  # nothing due: no tenant's schema is entered


def test_a_visit_with_nothing_left_clears_the_entry(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        due_work_note(kind=DueKind.SILENCES, due_at=timezone.now() - timedelta(seconds=1))

    assert due_work_tick(kind=DueKind.SILENCES).claimed == 1
    assert due_at(alpha, DueKind.SILENCES) is None  # no silence ends: nothing due


def test_many_due_tenants_are_fanned_out_in_batches(alpha, beta, settings,
                                                    django_capture_on_commit_callbacks):
    settings.HERALD_DUE_BATCH_SIZE = 1
    for tenant in (alpha, beta):
        with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
            due_work_note(kind=DueKind.SILENCES, due_at=timezone.now() - timedelta(seconds=1))
    batches: list[tuple[str, list[tuple[int, int]]]] = []

    result = due_work_tick(kind=DueKind.SILENCES, fan_out=lambda kind, b: batches.append((kind, b)))

    assert result.batches_fanned_out == 2 and result.ran_inline == 0
    assert sorted(claim[0][0] for _, claim in batches) == sorted([alpha.id, beta.id])


def test_a_write_during_a_visit_is_kept_when_the_visit_settles(
    alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        due_work_note(kind=DueKind.ESCALATION, due_at=timezone.now() - timedelta(seconds=1))
    [(tenant_id, version)] = due_work_claim(kind=DueKind.ESCALATION, now=timezone.now(), limit=10)
    written_meanwhile = timezone.now() + timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        # A step scheduled while the visit ran (its recompute did not see it).
        due_work_note(kind=DueKind.ESCALATION, due_at=written_meanwhile)

    recomputed = timezone.now() + timedelta(hours=5)
    due_work_settle(tenant_id=tenant_id, kind=DueKind.ESCALATION, version=version,
                    next_due_at=recomputed)

    # Never later than the work written meanwhile (at worst the claim's lease:
    # one wasted visit); the recompute alone would have missed it.
    assert due_at(alpha, DueKind.ESCALATION) <= written_meanwhile


def test_a_visit_nobody_wrote_during_settles_to_its_recomputed_time(
    alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        due_work_note(kind=DueKind.ESCALATION, due_at=timezone.now() - timedelta(seconds=1))
    [(tenant_id, version)] = due_work_claim(kind=DueKind.ESCALATION, now=timezone.now(), limit=10)
    recomputed = timezone.now() + timedelta(hours=5)

    due_work_settle(tenant_id=tenant_id, kind=DueKind.ESCALATION, version=version,
                    next_due_at=recomputed)

    assert due_at(alpha, DueKind.ESCALATION) == recomputed


# --- the slow full sweep -----------------------------------------------------


def test_work_written_behind_the_index_back_runs_after_the_full_sweep(
    alpha, beta, visited, django_capture_on_commit_callbacks
):
    in_beta = lost_notification(beta, noted=False, capture=django_capture_on_commit_callbacks)
    lost_at = in_beta.next_attempt_at

    connections["default"].set_schema_to_public()
    due_work_tick(kind=DueKind.NOTIFICATIONS)
    assert next_attempt(beta, in_beta) == lost_at  # the index does not know of it

    with django_capture_on_commit_callbacks(execute=True):
        due_work_reindex(tenant_ids=tenant_ids_all())
    connections["default"].set_schema_to_public()
    visited.clear()
    due_work_tick(kind=DueKind.NOTIFICATIONS)

    assert beta.schema_name in visited
    assert next_attempt(beta, in_beta) > lost_at  # swept at last


def test_the_full_sweep_runs_every_ten_minutes_by_default():
    entry = app.conf.beat_schedule["due-work-full-sweep"]

    assert entry["task"] == "tenants.tasks.due_work_full_sweep"
    assert entry["schedule"] == settings.HERALD_DUE_FULL_SWEEP_SECONDS == 600
