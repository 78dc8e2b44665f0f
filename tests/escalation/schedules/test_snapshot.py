"""A schedule's rows, read as a spec in a few queries, answer who is on call now."""

from datetime import UTC, datetime

from escalation.models.schedules import ScheduleOverride
from escalation.schedules.snapshot import schedule_on_call_now, schedule_snapshot
from tests.factories import PersonFactory, ScheduleFactory, ScheduleLayerFactory


def test_the_snapshot_of_a_two_layer_schedule_with_an_override_takes_few_queries(
    alpha, django_assert_max_num_queries
):
    alice, bob, carol = PersonFactory.create_batch(3)
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    primary = ScheduleLayerFactory(schedule=schedule, priority=1, members=[alice, bob])
    ScheduleLayerFactory(schedule=schedule, priority=0, members=[carol])
    primary.restrictions.create(weekday=None, start_time="08:00", end_time="20:00")
    ScheduleOverride.objects.create(
        schedule=schedule, kind="replace", person=carol, replaces=bob,
        start=datetime(2026, 1, 12, 8, tzinfo=UTC), end=datetime(2026, 1, 13, 8, tzinfo=UTC),
    )
    with django_assert_max_num_queries(8):
        spec = schedule_snapshot(schedule_id=schedule.pk)
    assert spec.version == schedule.version and spec.time_zone == "Europe/Berlin"
    assert [layer.members for layer in spec.layers] == [(alice.pk, bob.pk), (carol.pk,)]
    assert len(spec.layers[0].restrictions) == 1 and len(spec.overrides) == 1

    # Monday 2026-01-05 12:00 Berlin: alice's week on the primary layer.
    now = schedule_on_call_now(schedule_id=schedule.pk, at=datetime(2026, 1, 5, 11, tzinfo=UTC))
    assert (now.people, now.source, now.layer_id) == ((alice.pk,), "layer", primary.pk)
    # At night the primary layer is restricted: the secondary layer's carol.
    night = schedule_on_call_now(schedule_id=schedule.pk, at=datetime(2026, 1, 5, 22, tzinfo=UTC))
    assert night.people == (carol.pk,)
    # Bob's week, but carol replaces him on Monday.
    swapped = schedule_on_call_now(
        schedule_id=schedule.pk, at=datetime(2026, 1, 12, 10, tzinfo=UTC)
    )
    assert (swapped.people, swapped.source) == ((carol.pk,), "override")
    layer_only = schedule_on_call_now(
        schedule_id=schedule.pk, at=datetime(2026, 1, 12, 10, tzinfo=UTC), layer_id=primary.pk
    )
    assert layer_only.people == (bob.pk,)


def test_a_snapshot_since_an_instant_leaves_out_what_ended_before_it(alpha):
    alice, bob = PersonFactory.create_batch(2)
    schedule = ScheduleFactory()
    ScheduleLayerFactory(schedule=schedule, members=[alice])
    for day in (3, 20):
        ScheduleOverride.objects.create(
            schedule=schedule, kind="add", person=bob,
            start=datetime(2026, 1, day, tzinfo=UTC), end=datetime(2026, 1, day + 1, tzinfo=UTC),
        )
    since = datetime(2026, 1, 10, tzinfo=UTC)
    assert len(schedule_snapshot(schedule_id=schedule.pk).overrides) == 2
    (kept,) = schedule_snapshot(schedule_id=schedule.pk, since=since).overrides
    assert kept.start == datetime(2026, 1, 20, tzinfo=UTC)
