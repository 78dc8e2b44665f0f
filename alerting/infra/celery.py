"""The Celery app. Tasks run in the schema of the tenant that enqueued them."""

import os

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")

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
    # The due-work index's safety net: every tenant's entries recomputed from
    # its tables (tenants/due_work.py), so a lost note delays work by this much.
    "due-work-full-sweep": {
        "task": "tenants.tasks.due_work_full_sweep",
        "schedule": float(settings.HERALD_DUE_FULL_SWEEP_SECONDS),
    },
    # Spare tenant schemas back to HERALD_TENANT_SPARE_SCHEMAS, stale ones dropped
    # (tenants/spare_schemas.py); each tenant creation also enqueues it.
    "tenant-spare-schemas": {
        "task": "tenants.tasks.spare_schemas_fill_task",
        "schedule": 300.0,
    },
    # Chains delivery's pending outcomes and checkpoints each tenant's audit
    # head outside its schema, at a fixed interval (alerting/audit/checkpoints.py).
    "audit-seal-and-checkpoint": {
        "task": "alerting.audit.tasks.audit_seal_and_checkpoint_all_tenants",
        "schedule": float(settings.HERALD_AUDIT_CHECKPOINT_SECONDS),
    },
}


# Celery's Django fixup would close every database connection around each
# task (settings.CELERY_DB_REUSE_MAX turns that off): a new PostgreSQL
# connection per delivery cost more than the delivery. Connections are kept
# and, as Django does around each request, dropped only when broken (after a
# PostgreSQL restart, say) or older than CONN_MAX_AGE.
task_prerun.connect(lambda **_: close_old_connections(), weak=False)
task_postrun.connect(lambda **_: close_old_connections(), weak=False)
