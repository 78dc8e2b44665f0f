from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("receivers", "0011_page_carriers_by_prefix"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliveryattempt",
            name="provider_status",
            field=models.CharField(blank=True, db_default="", default="", max_length=32),
        ),
    ]
