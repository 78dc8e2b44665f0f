"""How notifications written in a transaction reach a worker: a NOTIFY, or a task.

With `HERALD_DELIVERY_WAKE = "notify"` (the default), once the transaction
that wrote notifications has committed, a statement of its own says so to
PostgreSQL (`pg_notify('herald_delivery', <the tenant's schema>)`), which
hands it to the listening relay in a worker (receivers.delivery.relay). The
request pays one statement instead of a broker publish. With `"broker"` a
Celery task is published on commit, as the sweep's and retries' are in both
modes.

Not inside the writer's transaction: PostgreSQL serialises the commits of
transactions that notified (one global lock, held through the commit's WAL
flush), so concurrent ingests that each notified waited for each other's
flush, one after the other. After it, the notify rides in the statement that
notes the tenant in the due-work index (one round trip for both), which
commits without waiting for the disk (a crash loses a wake, which the sweep
stands in for) and holds that lock for microseconds.

Either way the wake is only a hint that work is due: the database is the
queue. A wake nobody hears (no relay running, a relay that died) leaves the
notifications pending, and the sweep hands them to the broker after
`HERALD_SWEEP_PENDING_AFTER_SECONDS` (the wake notes the tenant in the
due-work index, as a published task does: tenants/due_work.py).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction

from receivers.delivery.outbox import notifications_enqueue

# The channel the relay listens on; the payload is the tenant's schema name.
WAKE_CHANNEL = "herald_delivery"


def notifications_wake(*, notification_ids: list[int]) -> None:
    """Have the workers deliver notifications this transaction wrote, once it commits."""
    if not notification_ids:
        return
    if settings.HERALD_DELIVERY_WAKE == "notify":
        from receivers.due import notifications_due_note

        # A wake nobody hears is swept: the sweep visits tenants the index names.
        notifications_due_note(wake_channel=WAKE_CHANNEL)
        return
    transaction.on_commit(partial(notifications_enqueue, notification_ids=notification_ids))
