# Receivers' secrets move from the old PBKDF2 scheme (keys derived from
# DJANGO_SECRET_KEY) to HERALD_ENCRYPTION_KEYS' Fernet keys. Runs in every
# tenant schema; what neither scheme reads is left and logged.

from django.db import migrations

from alerting.encryption_services import legacy_secrets_migrate


def _reencrypt(apps, schema_editor):
    legacy_secrets_migrate(apps, schema_editor, label="receivers.Receiver", name_field="name")


class Migration(migrations.Migration):

    dependencies = [("receivers", "0007_channel_choices_from_the_registry")]

    operations = [migrations.RunPython(_reencrypt, migrations.RunPython.noop)]
