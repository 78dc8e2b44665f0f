"""Thin periodic tasks of the alert pipeline."""

from __future__ import annotations

from alerting.infra.celery import app
from alerting.noise_tasks import noise_control_tick  # noqa: F401 - registers the task (H4)
from tenants.models_due import DueKind
from tenants.tasks import due_work_tick_fanned


@app.task(acks_late=True)
def silences_ended_sweep() -> int:
    """Periodic: notify firing alerts whose silence ended, in the tenants the due index names.

    How many tenants were due (alerting/due.py runs each one's work).
    """
    return due_work_tick_fanned(kind=DueKind.SILENCES).claimed
