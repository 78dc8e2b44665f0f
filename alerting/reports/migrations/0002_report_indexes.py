"""Indexes the report queries read instead of the tables (docs/reports.md, "Performance").

Plain SQL, not model Meta indexes: they belong to the reports app, which owns
its reads, while the tables belong to alerting and receivers. Built
CONCURRENTLY (outside a transaction) so a tenant with a long history keeps
ingesting and delivering while they build (docs/operating.md, upgrades).
"""

from django.db import migrations

INDEXES = {
    # Who was sent something about each group: the receiver and route breakdowns
    # read this index only (index-only scan, already in group order).
    "reports_notif_group_receiver": (
        "receivers_notification (alert_group_id, receiver_name, receiver_id)"
    ),
    # The notifications of a period, with what the noise report and the volume
    # chart need, so neither visits the table's rows.
    "reports_notif_created_cover": (
        "receivers_notification (created_at) INCLUDE (alert_group_id, incident, status)"
    ),
    # The incidents of a period.
    "reports_group_first_seen": (
        "alerting_alertgroup (first_seen_at) INCLUDE (id, incident, acknowledged_at, resolved_at)"
    ),
    # The acknowledged pages of a group (who acknowledged, the noise report).
    "reports_page_acknowledged": (
        "escalation_page (alert_group_id, incident, stopped_at, id) INCLUDE (person_name) "
        "WHERE state = 'acknowledged'"
    ),
}


def _concurrently(schema_editor) -> str:
    # Inside a transaction (a test database, a tenant schema built in one) the
    # tables are new and small, and CONCURRENTLY is refused there.
    return "" if schema_editor.connection.in_atomic_block else "CONCURRENTLY "


def create_indexes(apps, schema_editor) -> None:
    for name, target in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS {name} ON {target}"
        )


def drop_indexes(apps, schema_editor) -> None:
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0001_sla_target"),
        ("alerting", "0010_alertgroup_incident"),
        ("receivers", "0010_notification_vendor_ref_incident"),
        ("escalation", "0002_people_teams_schedules_pages"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
