"""A snapshot taken while someone edits the schedule is all of one version.

Transactional: the edit commits from another connection between two of the
snapshot's queries, as it would from another request.
"""

import threading
from datetime import UTC, datetime

from django.db import connection

from escalation.models.schedules import ScheduleOverride
from escalation.schedules.services import schedule_changed
from escalation.schedules.snapshot import schedule_snapshot
from tests.factories import PersonFactory, ScheduleFactory, ScheduleLayerFactory


def _edit_elsewhere(tenant, schedule_id: int, person_id: int) -> None:
    from django.db import connection as own

    def edit():
        own.set_tenant(tenant)
        try:
            ScheduleOverride.objects.create(
                schedule_id=schedule_id, kind="add", person_id=person_id,
                start=datetime(2026, 1, 10, tzinfo=UTC), end=datetime(2026, 1, 11, tzinfo=UTC),
            )
            schedule_changed(schedule_id=schedule_id)
        finally:
            own.close()

    thread = threading.Thread(target=edit)
    thread.start()
    thread.join()


def test_an_override_committed_mid_snapshot_comes_with_its_own_version(committed_tenants):
    alpha = committed_tenants["alpha"]
    connection.set_tenant(alpha)
    alice, bob = PersonFactory.create_batch(2)
    schedule = ScheduleFactory()
    ScheduleLayerFactory(schedule=schedule, members=[alice])
    edited = []

    def interfere(execute, sql, params, many, context):
        if "scheduleoverride" in sql and not edited:
            edited.append(True)
            _edit_elsewhere(alpha, schedule.pk, bob.pk)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(interfere):
        spec = schedule_snapshot(schedule_id=schedule.pk)
    assert edited
    # The first reading saw the new override under the old version; it was read again.
    assert spec.version == schedule.version + 1
    assert [o.person for o in spec.overrides] == [bob.pk]
