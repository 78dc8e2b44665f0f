"""Thin tasks around the escalation services."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.infra.celery import app
from escalation.services import escalation_ids_due, escalation_step_run
from tenants.selectors import tenant_list


@app.task(acks_late=True)
def escalation_step(escalation_id: int, step: int, repeats_done: int) -> bool:
    """ETA task for one step; exits if the chain moved on (stale)."""
    return escalation_step_run(escalation_id=escalation_id, step=step, repeats_done=repeats_done)


@app.task(acks_late=True)
def escalation_tick() -> int:
    """Periodic: run every due step of every tenant, from the database's timers."""
    ran = 0
    for tenant in tenant_list():
        with tenant_context(tenant):
            for escalation_id in escalation_ids_due(now=timezone.now()):
                ran += escalation_step_run(escalation_id=escalation_id)
    return ran
