"""A per-schema version of the configuration dispatch reads, bumped by PostgreSQL itself.

Ingest caches a tenant's routes, silences and enabled receivers per process
and reads this version in its upsert statement: a cached copy is used only
while the version is unchanged. Triggers bump it on any write to those
tables, whatever path made it (admin, services, config import, raw SQL), so
no writer has to remember to invalidate anything.

The value comes from a sequence, never reused even by a rolled-back
transaction, so equal versions always mean the same committed state.
"""

from django.db import migrations

_WATCHED = ("alerting_route", "alerting_route_receivers", "alerting_silence", "receivers_receiver")

_FUNCTION = r"""
CREATE FUNCTION alerting_config_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    -- Qualified by the schema of the table written, whatever the search_path.
    EXECUTE format(
        'INSERT INTO %1$I.alerting_config_version (id, version) VALUES (1, nextval(%2$L)) '
        'ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version',
        TG_TABLE_SCHEMA, quote_ident(TG_TABLE_SCHEMA) || '.alerting_config_version_seq');
    RETURN NULL;
END
$body$
"""

_FORWARD = [
    "CREATE SEQUENCE alerting_config_version_seq",
    "CREATE TABLE alerting_config_version (id smallint PRIMARY KEY CHECK (id = 1),"
    " version bigint NOT NULL)",
    "INSERT INTO alerting_config_version VALUES (1, nextval('alerting_config_version_seq'))",
    _FUNCTION,
    *(
        f"CREATE TRIGGER {table}_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()"
        for table in _WATCHED
    ),
]
_BACKWARD = [
    *(f"DROP TRIGGER {table}_config_changed ON {table}" for table in _WATCHED),
    "DROP FUNCTION alerting_config_changed()",
    "DROP TABLE alerting_config_version",
    "DROP SEQUENCE alerting_config_version_seq",
]


class Migration(migrations.Migration):
    dependencies = [
        ("alerting", "0005_alert_suppressed"),
        ("receivers", "0004_delivery_guarantees"),
    ]

    operations = [migrations.RunSQL(_FORWARD, _BACKWARD)]
