"""Thin Celery tasks: load by id, call a service."""

from __future__ import annotations

from django.conf import settings

from alerting.infra.celery import app
from receivers.delivery import DeliveryResult, notifications_deliver
from receivers.due import notifications_due_note
from receivers.phone.tasks import phone_summary  # noqa: F401  (registers it)
from receivers.telegram_bot.tasks import telegram_update  # noqa: F401  (registers it)
from tenants.models_due import DueKind
from tenants.tasks import due_work_tick_fanned


@app.task(acks_late=True, reject_on_worker_lost=True)
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """First attempts, as a batch; a notification owed another attempt is retried on its own.

    With no ids: the tenant's due notifications, whichever they are.
    """
    results = notifications_deliver(
        notification_ids=notification_ids, take_due=_room(len(notification_ids))
    )
    _follow_up(results)
    outcomes: dict[str, int] = {}
    for result in results.values():
        outcomes[str(result.outcome)] = outcomes.get(str(result.outcome), 0) + 1
    return outcomes


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str | None:
    results = notifications_deliver(notification_ids=[notification_id], take_due=_room(1))
    result = results.pop(notification_id)
    _follow_up(results)
    if result.retry_in is not None:
        notifications_due_note(countdown=result.retry_in)
        raise self.retry(countdown=result.retry_in)
    return result.outcome


def _room(asked: int) -> int:
    """How many more of the tenant's due notifications a task takes along (up to a batch)."""
    return max(0, settings.HERALD_DELIVERY_BATCH_SIZE - asked)


def _follow_up(results: dict[int, DeliveryResult]) -> None:
    """Enqueue what is owed another try, each on its own."""
    retries = [result.retry_in for result in results.values() if result.retry_in is not None]
    if retries:
        notifications_due_note(countdown=min(retries))
    for notification_id, result in results.items():
        if result.retry_in is not None:
            deliver_notification.apply_async((notification_id,), countdown=result.retry_in)


@app.task(acks_late=True)
def notification_sweep_all_tenants() -> int:
    """Periodic: re-enqueue work whose task was lost, in the tenants the due index names.

    How many tenants were due (tenants/due_ticks.py; the name is kept for beat).
    """
    return due_work_tick_fanned(kind=DueKind.NOTIFICATIONS).claimed
