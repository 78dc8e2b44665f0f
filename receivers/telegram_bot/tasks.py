"""Thin task: one webhook update, in the schema of the tenant whose webhook took it."""

from __future__ import annotations

from typing import Any

from alerting.infra.celery import app
from receivers.telegram_bot.services import telegram_update_handle


@app.task(acks_late=True)
def telegram_update(receiver_id: int, update: dict[str, Any]) -> str:
    return telegram_update_handle(receiver_id=receiver_id, update=update)
