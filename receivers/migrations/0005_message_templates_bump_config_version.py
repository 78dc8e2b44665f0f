"""Template edits bump the configuration version too (see alerting 0006).

Delivery caches each tenant's receivers and message templates per process
while the version is unchanged; a template saved anywhere must end that.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerting", "0006_config_version"),
        ("receivers", "0004_delivery_guarantees"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER receivers_messagetemplate_config_changed"
            " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON receivers_messagetemplate"
            " FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()",
            "DROP TRIGGER receivers_messagetemplate_config_changed ON receivers_messagetemplate",
        )
    ]
