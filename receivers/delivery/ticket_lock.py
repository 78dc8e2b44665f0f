"""One sender at a time per ticket: a PostgreSQL advisory lock per tenant, receiver and incident.

A ticketing channel (Jira, ServiceNow) searches for the incident's ticket and
creates one when none is found; two workers sending the same incident at once
would both find none and both create. The lock is held around the whole send
(search, then create or update), so the second worker's search finds the
first one's ticket.

It is a transaction-level lock (`pg_try_advisory_xact_lock`) in a transaction
of its own on the connection of the thread that sends (a send thread has its
own), which the block's end commits or rolls back, releasing it. Not a
session-level lock: behind PgBouncer in transaction mode a session lock would
be taken on one server connection and its unlock sent to another, leaving the
ticket locked for as long as that server connection lives (docs/operating.md).
The send itself touches no database. Waiting is bounded: a sender still
holding it after `wait_seconds` (a hung vendor) makes this send a retryable
failure rather than a hang.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from receivers.transports.errors import TransportError

# Longer than a send's own timeouts (a search and a create), so a healthy holder finishes.
WAIT_SECONDS = 90.0
_POLL_SECONDS = 0.05
# The lock's namespace: other advisory locks of Herald never take this key.
_NAMESPACE = "herald-ticket"


def ticket_lock_key(*, schema: str, receiver_id: int, alert_group_id: int, incident: int) -> int:
    """The lock's 64-bit key (pure): a hash of the tenant, receiver, group and incident."""
    text = f"{_NAMESPACE}:{schema}:{receiver_id}:{alert_group_id}:{incident}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def ticket_lock(
    *, receiver_id: int, alert_group_id: int, incident: int, schema: str | None = None,
    wait_seconds: float = WAIT_SECONDS,
) -> Iterator[None]:
    """Hold the incident's ticket lock for this receiver while the block runs.

    `schema` is the tenant's (the current connection's when not given: a send
    thread's connection names no tenant, so the batch passes it). Raises a
    retryable TransportError when another sender holds it past `wait_seconds`.
    """
    key = ticket_lock_key(
        schema=schema if schema is not None else connection.schema_name,
        receiver_id=receiver_id, alert_group_id=alert_group_id, incident=incident,
    )
    deadline = time.monotonic() + wait_seconds
    with transaction.atomic():
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    raise TransportError(
                        "another worker is still sending this incident's ticket; will retry",
                        permanent=False,
                    )
                time.sleep(_POLL_SECONDS)
        yield  # released when this transaction ends
