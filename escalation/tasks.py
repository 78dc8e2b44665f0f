"""Thin tasks around the escalation services."""

from __future__ import annotations

from alerting.infra.celery import app
from escalation.paging.pages import page_rule_run
from escalation.services import escalation_step_run
from tenants.models_due import DueKind
from tenants.tasks import due_work_tick_fanned


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
    """Periodic: due steps, page rules and phone summaries, in the tenants the due index names.

    How many tenants were due (escalation/due.py runs each one's work).
    """
    return due_work_tick_fanned(kind=DueKind.ESCALATION).claimed
