"""Phone numbers are verified by a code: its hash, when it expires, the attempts made."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("escalation", "0005_actions_taken_from_chat_and_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactmethod",
            name="verification_code_hash",
            field=models.CharField(blank=True, db_default="", default="", editable=False,
                                   max_length=64),
        ),
        migrations.AddField(
            model_name="contactmethod",
            name="verification_code_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="contactmethod",
            name="verification_attempts",
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
    ]
