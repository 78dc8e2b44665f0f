"""The Celery app. Tasks run in the schema of the tenant that enqueued them."""

import os

from django.conf import settings
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.settings")

app = CeleryApp("herald")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "notification-sweep": {
        "task": "receivers.tasks.notification_sweep_all_tenants",
        "schedule": float(settings.HERALD_SWEEP_INTERVAL_SECONDS),
    },
    "escalation-tick": {
        "task": "escalation.tasks.escalation_tick",
        "schedule": float(settings.HERALD_ESCALATION_TICK_SECONDS),
    },
    "silences-ended": {
        "task": "alerting.tasks.silences_ended_sweep",
        "schedule": float(settings.HERALD_ESCALATION_TICK_SECONDS),
    },
}
