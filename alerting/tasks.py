"""Thin periodic tasks of the alert pipeline."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from alerting.infra.celery import app
from alerting.services import silences_ended_notify
from tenants.selectors import tenant_list


@app.task(acks_late=True)
def silences_ended_sweep() -> int:
    """Periodic: notify, tenant by tenant, firing alerts whose silence ended."""
    released = 0
    for tenant in tenant_list():
        with tenant_context(tenant):
            released += silences_ended_notify()
    return released
