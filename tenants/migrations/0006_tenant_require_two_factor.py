from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0005_tenantingestkey"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="require_two_factor",
            field=models.BooleanField(
                default=False,
                help_text="Members must sign in to this tenant's admin with a TOTP code too "
                "(they enrol an authenticator app at their next login).",
            ),
        ),
    ]
