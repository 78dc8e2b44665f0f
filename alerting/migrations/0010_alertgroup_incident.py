# An alert group counts its incidents, so an action link acts on its own only.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("alerting", "0009_route_tree")]

    operations = [
        migrations.AddField(
            model_name="alertgroup",
            name="incident",
            field=models.PositiveIntegerField(db_default=1, default=1),
        ),
    ]
