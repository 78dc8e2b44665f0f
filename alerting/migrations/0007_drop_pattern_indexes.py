"""Drop the `LIKE` indexes Django adds beside unique text columns.

Nothing searches fingerprints or group keys by prefix; every ingest paid for
maintaining them (one more index write per alert). Django drops them with
IF EXISTS if it ever alters these columns, and would add them back then.
"""

from django.db import migrations

_INDEXES = {
    "alerting_alert_fingerprint_1cf96c12_like": "alerting_alert (fingerprint varchar_pattern_ops)",
    "alerting_alertgroup_group_key_b49c53ea_like": "alerting_alertgroup (group_key text_pattern_ops)",
}


class Migration(migrations.Migration):
    dependencies = [("alerting", "0006_config_version")]

    operations = [
        migrations.RunSQL(
            [f"DROP INDEX IF EXISTS {name}" for name in _INDEXES],
            [f"CREATE INDEX IF NOT EXISTS {name} ON {table}" for name, table in _INDEXES.items()],
        )
    ]
