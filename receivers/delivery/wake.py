"""How notifications written in a transaction reach a worker: a NOTIFY, or a task.

With `HERALD_DELIVERY_WAKE = "notify"` (the default) the transaction that
writes notifications also says so to PostgreSQL (`NOTIFY herald_delivery`,
with the tenant's schema); PostgreSQL delivers it to the listening relay in
a worker (receivers.delivery.relay) when, and only if, the transaction
commits. The request pays one statement instead of a broker publish. With
`"broker"` a Celery task is published on commit, as the sweep's and retries'
are in both modes.

Either way the wake is only a hint that work is due: the database is the
queue. A wake nobody hears (no relay running, a relay that died) leaves the
notifications pending, and the sweep hands them to the broker after
`HERALD_SWEEP_PENDING_AFTER_SECONDS` (the wake notes the tenant in the
due-work index, as a published task does: tenants/due_work.py).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import connection, transaction

from receivers.delivery.outbox import notifications_enqueue

# The channel the relay listens on; the payload is the tenant's schema name.
WAKE_CHANNEL = "herald_delivery"


def notifications_wake(*, notification_ids: list[int]) -> None:
    """Have the workers deliver notifications this transaction wrote, once it commits."""
    if not notification_ids:
        return
    if settings.HERALD_DELIVERY_WAKE == "notify":
        from receivers.due import notifications_due_note

        with connection.cursor() as cursor:
            # pg_notify, not NOTIFY: the schema is a parameter, never SQL text.
            cursor.execute("SELECT pg_notify(%s, %s)", [WAKE_CHANNEL, connection.schema_name])
        # A wake nobody hears is swept: the sweep visits tenants the index names.
        notifications_due_note()
        return
    transaction.on_commit(partial(notifications_enqueue, notification_ids=notification_ids))
