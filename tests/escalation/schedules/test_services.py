"""Overrides made and deleted through the services, and a stored schedule checked as a whole.

Bad input is a ValidationError naming the field; every accepted change bumps
the schedule's version and is in the audit trail.
"""

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from alerting.audit.models import AuditEntry
from escalation.models.schedules import LayerRestriction, ScheduleOverride
from escalation.schedules.services import (
    schedule_changed,
    schedule_full_clean,
    schedule_override_create,
    schedule_override_delete,
)
from escalation.schedules.snapshot import schedule_on_call_now
from tests.factories import (
    PersonFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
    TeamFactory,
    UserFactory,
)

SAT, SUN, MON = (datetime(2026, 1, day, tzinfo=UTC) for day in (10, 11, 12))


def _errors(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


@pytest.fixture
def rota(alpha):
    alice, bob, dave = (PersonFactory(display_name=name) for name in ("alice", "bob", "dave"))
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    ScheduleLayerFactory(schedule=schedule, members=[alice, bob])
    return schedule, alice, bob, dave


def test_dave_takes_the_weekend_the_version_moves_and_the_trail_says_who(rota):
    schedule, alice, _, dave = rota
    version = schedule.version
    override = schedule_override_create(
        schedule=schedule, kind="replace", person=dave, start=SAT, end=SUN, by="carol",
        note="alice is away",
    )
    schedule.refresh_from_db()
    assert schedule.version == version + 1
    assert override.created_by == "carol"
    assert schedule_on_call_now(schedule_id=schedule.pk, at=SAT).people == (dave.pk,)
    entry = AuditEntry.objects.get(action="override_create")
    assert (entry.actor, entry.object_id, entry.after["person_id"]) == (
        "carol", str(override.pk), dave.pk)

    schedule_override_delete(override=override, by="carol")
    schedule.refresh_from_db()
    assert schedule.version == version + 2
    assert not ScheduleOverride.objects.exists()
    assert schedule_on_call_now(schedule_id=schedule.pk, at=SAT).people == (alice.pk,)
    assert AuditEntry.objects.get(action="override_delete").before["person_id"] == dave.pk


def test_an_override_overlapping_one_for_the_same_person_is_refused_naming_it(rota):
    schedule, _, bob, dave = rota
    schedule_override_create(schedule=schedule, kind="add", person=dave, start=SAT, end=SUN)
    errors = _errors(lambda: schedule_override_create(
        schedule=schedule, kind="replace", person=dave, replaces=bob,
        start=datetime(2026, 1, 10, 12, tzinfo=UTC), end=MON,
    ))
    assert list(errors) == ["start"] and "dave" in errors["start"][0]
    # Touching ends do not overlap.
    schedule_override_create(schedule=schedule, kind="remove", person=dave, start=SUN, end=MON)


def test_two_replacements_of_everyone_at_once_are_refused(rota):
    schedule, alice, _, dave = rota
    schedule_override_create(schedule=schedule, kind="replace", person=dave, start=SAT, end=SUN)
    errors = _errors(lambda: schedule_override_create(
        schedule=schedule, kind="replace", person=alice, start=SAT, end=MON))
    assert list(errors) == ["start"]


def test_bad_override_fields_are_each_named(rota):
    schedule, alice, bob, _ = rota
    assert "end" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=alice, start=SUN, end=SAT))
    assert "replaces" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=alice, replaces=bob, start=SAT, end=SUN))
    assert "replaces" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="replace", person=alice, replaces=alice, start=SAT, end=SUN))
    assert "kind" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="swap", person=alice, start=SAT, end=SUN))
    assert "note" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=alice, start=SAT, end=SUN, note="x" * 201))
    assert "end" in _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=alice, start=SAT,
        end=datetime(2027, 3, 1, tzinfo=UTC)))
    assert not ScheduleOverride.objects.exists()


def test_an_override_for_someone_outside_the_tenant_or_the_team_is_refused(rota):
    schedule, alice, bob, _ = rota
    from escalation.models import Person

    outsider = Person.objects.create(user=UserFactory(), display_name="mallory")
    errors = _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=outsider, start=SAT, end=SUN))
    assert list(errors) == ["person"] and "not a member of this tenant" in errors["person"][0]

    schedule.team = TeamFactory(members=[alice])
    schedule.save()
    errors = _errors(lambda: schedule_override_create(
        schedule=schedule, kind="add", person=bob, start=SAT, end=SUN))
    assert list(errors) == ["person"] and "team" in errors["person"][0]
    schedule_override_create(schedule=schedule, kind="add", person=alice, start=SAT, end=SUN)


def test_the_whole_schedule_check_names_each_field_at_fault(alpha):
    alice = PersonFactory(display_name="alice")
    schedule = ScheduleFactory(time_zone="Mars/Olympus_Mons")
    empty = ScheduleLayerFactory(schedule=schedule, name="empty", members=[])
    zero = ScheduleLayerFactory(schedule=schedule, name="zero", shift_length=0,
                                start_position=3, members=[alice])
    LayerRestriction.objects.create(layer=zero, start_time=time(9), end_time=time(9))
    for day in (10, 11):  # two overlapping removals of alice, stored behind the service's back
        ScheduleOverride.objects.create(
            schedule=schedule, kind="remove", person=alice,
            start=datetime(2026, 1, day, tzinfo=UTC), end=datetime(2026, 1, 13, tzinfo=UTC))
    errors = _errors(lambda: schedule_full_clean(schedule_id=schedule.pk))
    assert set(errors) == {"time_zone", "members", "shift_length", "start_position",
                           "end_time", "overrides"}
    assert "'empty'" in errors["members"][0] and "nobody" in errors["members"][0]
    assert "'zero'" in errors["shift_length"][0]
    assert "alice" in errors["overrides"][0]
    assert empty.pk  # the layers stay: the check only reports


def test_a_sound_schedule_passes_and_a_change_bumps_its_version(rota):
    schedule, *_ = rota
    schedule_full_clean(schedule_id=schedule.pk)
    schedule_changed(schedule_id=schedule.pk)
    before = schedule.version
    schedule.refresh_from_db()
    assert schedule.version == before + 1
