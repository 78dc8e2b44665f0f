# Link signing keys rotate with a grace period (tenants.link_keys), and are
# re-encrypted from the old PBKDF2 scheme to HERALD_ENCRYPTION_KEYS' Fernet keys.

from django.db import migrations

import alerting.fields
import tenants.models
from alerting.encryption_services import legacy_secrets_migrate


def _reencrypt(apps, schema_editor):
    # Tenant rows live in the public schema only.
    if schema_editor.connection.schema_name != "public":
        return
    legacy_secrets_migrate(apps, schema_editor, label="tenants.Tenant", name_field="slug")


class Migration(migrations.Migration):

    dependencies = [("tenants", "0008_key_writes_bump_config_version")]

    operations = [
        migrations.AlterField(
            model_name="tenant",
            name="link_signing_key",
            field=alerting.fields.EncryptedCharField(
                default=tenants.models._new_signing_key, editable=False, max_length=200
            ),
        ),
        migrations.AddField(
            model_name="tenant",
            name="link_signing_keys_retired",
            field=alerting.fields.EncryptedJSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(_reencrypt, migrations.RunPython.noop),
    ]
