"""API tokens get scopes, an expiry and a last-used time; tenants a silence bound.

Existing tokens get the scope `read` only. Before, every "Read API" token
could also acknowledge, resolve and silence; a token that must keep doing so
is replaced by one created with the `acknowledge` scope (tenant admin or
`create_key api --scope acknowledge`): the refusal names the scope.
"""

import datetime

import django.contrib.postgres.fields
from django.db import migrations, models

import tenants.models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_tenant_require_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("read", "read (alerts, groups, silences)"),
                        ("acknowledge", "acknowledge (acknowledge, resolve, silence)"),
                        ("write", "write (configuration: weekly silences)"),
                    ],
                    max_length=16,
                ),
                default=tenants.models._default_scopes,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, help_text="Empty: never.", null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="tenant",
            name="silence_max_duration",
            field=models.DurationField(
                default=datetime.timedelta(days=7),
                help_text="Silences made through the API must end within this time from now, "
                'e.g. "7 00:00:00" for 7 days.',
            ),
        ),
        migrations.CreateModel(
            name="TenantApiToken",
            fields=[],
            options={
                "verbose_name": "API token",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tenants.apitoken",),
        ),
    ]
