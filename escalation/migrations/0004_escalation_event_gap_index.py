"""An index on the gap events' times, for the overview's gaps of the last day."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0003_contact_method_address_reference"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="escalationevent",
            index=models.Index(
                condition=models.Q(("kind", "gap")), fields=["at"], name="escalation_event_gap_at"
            ),
        ),
    ]
