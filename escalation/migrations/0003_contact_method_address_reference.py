from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("escalation", "0002_people_teams_schedules_pages"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactmethod",
            name="address_reference",
            field=models.CharField(blank=True, editable=False, max_length=320),
        ),
    ]
