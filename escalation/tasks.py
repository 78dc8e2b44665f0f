"""Thin tasks around the escalation services."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from alerting.infra.celery import app
from escalation.paging.pages import page_rule_run
from escalation.services import escalation_step_run, escalation_tick_run
from receivers.phone.summaries import phone_summaries_send_due
from tenants.selectors import tenant_list


@app.task(acks_late=True)
def escalation_step(escalation_id: int, step: int, repeats_done: int) -> bool:
    """ETA task for one step; exits if the chain moved on (stale)."""
    return escalation_step_run(escalation_id=escalation_id, step=step, repeats_done=repeats_done)


@app.task(acks_late=True)
def page_rule(page_id: int, rule: int) -> bool:
    """ETA task for a page's next notification rule; exits if the page moved on (stale)."""
    return page_rule_run(page_id=page_id, rule=rule)


@app.task(acks_late=True)
def escalation_tick() -> int:
    """Periodic: run every due step and page rule of every tenant, from the database's timers."""
    ran = 0
    for tenant in tenant_list():
        with tenant_context(tenant):
            ran += escalation_tick_run()
            # Summary SMS whose ETA task was lost (receivers.phone.summaries).
            phone_summaries_send_due()
    return ran
