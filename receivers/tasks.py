"""Thin Celery tasks: load by id, call a service."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from alerting.celery import app
from receivers.services import notification_deliver, notification_sweep
from tenants.selectors import tenant_list


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str | None:
    result = notification_deliver(notification_id=notification_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome


@app.task(acks_late=True)
def notification_sweep_all_tenants() -> int:
    """Periodic: re-enqueue, tenant by tenant, work whose task was lost."""
    swept = 0
    for tenant in tenant_list():
        with tenant_context(tenant):
            swept += len(notification_sweep())
    return swept
