# The choices are the registry's functions, read at each use: a channel module
# added later changes no migration state, so it needs no migration of its own.

from django.db import migrations, models

import receivers.transports.registry


class Migration(migrations.Migration):

    dependencies = [
        ('receivers', '0006_notification_alerts_plain_json'),
    ]

    operations = [
        migrations.AlterField(
            model_name='messagetemplate',
            name='channel',
            field=models.CharField(choices=receivers.transports.registry.templated_channel_choices, max_length=32),
        ),
        migrations.AlterField(
            model_name='receiver',
            name='kind',
            field=models.CharField(choices=receivers.transports.registry.channel_choices, max_length=32),
        ),
    ]
