"""Thin tasks around the Slack app's services."""

from __future__ import annotations

from alerting.infra.celery import app
from receivers.slack_bot.interactions import slack_click_run
from receivers.slack_bot.payloads import Click


@app.task(acks_late=True)
def slack_click(receiver_id: int, click: dict[str, str]) -> str:
    """One click of a Herald button in Slack, in the schema of the tenant it came to."""
    return slack_click_run(receiver_id=receiver_id, click=Click(**click))
