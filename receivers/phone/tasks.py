"""Thin task around the phone summaries (receivers.tasks imports it, so workers know it)."""

from __future__ import annotations

from alerting.infra.celery import app
from receivers.phone.summaries import phone_summary_send


@app.task(acks_late=True)
def phone_summary(summary_id: int) -> bool:
    """ETA task: the summary SMS of the pages a number's limit held (a sent one exits)."""
    return phone_summary_send(summary_id=summary_id)
