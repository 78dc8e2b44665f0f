"""Several receivers may carry one contact kind (by country prefix); a page records its kind."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("receivers", "0010_notification_vendor_ref_incident"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="receiver",
            name="one_page_carrier_per_channel",
        ),
        migrations.AlterField(
            model_name="receiver",
            name="carries_pages",
            field=models.BooleanField(
                db_default=False, default=False,
                help_text="Carries pages to people's contact methods of this channel: the "
                "person's address replaces the receiver's own. Several may carry one kind "
                "(phone numbers: by their settings' country_prefixes, one default).",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="contact_kind",
            field=models.CharField(blank=True, db_default="", default="", max_length=32),
        ),
    ]
