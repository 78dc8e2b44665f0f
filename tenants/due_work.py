"""Writes on the due-work index: what makes periodic work cost what is due.

The invariant, for each tenant and kind of periodic work:

    entry.due_at <= the earliest time that tenant's own tables say work is due

(a null due_at: nothing due). Three things keep it:

- Writers of due work (an ETA task scheduled, a notification enqueued, a
  silence written) call `due_work_note` after their transaction commits. It is
  one statement that only ever lowers due_at (LEAST), so a stale entry is never
  raised by a writer and a concurrent writer can never make it later.
- A visit (the tick, tenants/due_ticks.py) claims the entry, runs the
  tenant's work, recomputes the next due time from the tenant's tables and
  settles the entry with it, unless a writer wrote between the claim and the
  settle (the version moved): then it keeps the lower of both. An entry that
  is too early only costs a wasted visit; one that is too late would miss work.
- A slow full sweep (`due_work_reindex`, HERALD_DUE_FULL_SWEEP_SECONDS) recomputes
  every tenant's entries from their tables, so work written behind the index's
  back (a crash between a commit and its note, rows written by hand, an older
  release) still runs within that bound.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction

from alerting.infra.commit_riders import CommitRider
from alerting.infra.sql import server_bound_cursor, sql_compact
from tenants.databases import shared_connection
from tenants.models_due import DueKind

logger = logging.getLogger(__name__)

# A claimed entry's due_at is its lease: a visit that died is retried then.
CLAIM_LEASE = timedelta(minutes=5)

# One statement, the tenant found by the connection's schema. The conflict
# branch writes only when it lowers the entry (or a visit is in progress,
# whose settle must learn of the write): the common case is a no-op.
_NOTE = """
INSERT INTO tenants_tenantduework (tenant_id, kind, due_at, claimed, version)
SELECT t.id, %(kind)s, %(due_at)s, false, 1 FROM tenants_tenant t{async_join}
WHERE t.schema_name = %(schema)s
ON CONFLICT (tenant_id, kind) DO UPDATE
SET due_at = LEAST(tenants_tenantduework.due_at, EXCLUDED.due_at),
    version = tenants_tenantduework.version + 1
WHERE tenants_tenantduework.claimed
   OR tenants_tenantduework.due_at IS NULL
   OR tenants_tenantduework.due_at > EXCLUDED.due_at
"""
# Run on its own (after the writer's commit), the note's transaction is this one
# statement: it commits without waiting for the disk. A note a PostgreSQL crash
# loses is work written behind the index's back, which the full sweep finds; a
# writer's commit would otherwise wait for a second flush of the WAL.
_NOTE_ON_ITS_OWN = _NOTE.format(
    async_join=", (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
)
_NOTE = _NOTE.format(async_join="")
# With a listener to tell (delivery's wake), the NOTIFY rides in the same
# statement: one round trip after the commit, not two. pg_notify, not NOTIFY:
# the channel and the schema are parameters, never SQL text.
_NOTE_AND_NOTIFY = "WITH noted AS ({note}) SELECT pg_notify(%(channel)s, %(schema)s)"
_NOTE_AND_NOTIFY_ON_ITS_OWN = _NOTE_AND_NOTIFY.format(note=_NOTE_ON_ITS_OWN)
_NOTE_AND_NOTIFY = _NOTE_AND_NOTIFY.format(note=_NOTE)
# Run at every ingest that notifies: bound by the server and so prepared, they
# are planned once per connection, not at every run.
_NOTE, _NOTE_ON_ITS_OWN, _NOTE_AND_NOTIFY, _NOTE_AND_NOTIFY_ON_ITS_OWN = map(
    sql_compact, (_NOTE, _NOTE_ON_ITS_OWN, _NOTE_AND_NOTIFY, _NOTE_AND_NOTIFY_ON_ITS_OWN))


def due_work_note(
    *, kind: DueKind | str, due_at: datetime, notify_channel: str | None = None
) -> None:
    """Record that the current tenant has `kind` work due at `due_at` (or earlier).

    Inside a transaction it runs on commit (the work is then visible to the
    visit it wakes, and the entry's row is locked for one statement only, not
    for the writer's transaction). With `notify_channel`, the same statement
    sends `pg_notify(notify_channel, <the tenant's schema>)`. A failure is
    logged, never raised: the writer's work is committed and the full sweep
    finds it.
    """
    schema = connection.schema_name
    if schema == "public" or not schema:
        return
    statements = (_NOTE, _NOTE_ON_ITS_OWN) if notify_channel is None else (
        _NOTE_AND_NOTIFY, _NOTE_AND_NOTIFY_ON_ITS_OWN)
    params = {"kind": str(kind), "due_at": due_at, "schema": schema, "channel": notify_channel}

    def not_written(exc: Exception) -> None:
        logger.warning("due-work index not written (the full sweep will find it): %s",
                       type(exc).__name__)

    def write() -> None:
        # The index is in the shared schema, whichever database holds the tenant's.
        shared = shared_connection()
        try:
            on_its_own = shared.get_autocommit() and not shared.in_atomic_block
            with server_bound_cursor(shared) as cursor:
                cursor.execute(statements[on_its_own], params)
        except DatabaseError as exc:
            not_written(exc)

    if connection.in_atomic_block:
        # With the index on the writer's own connection, the note may travel
        # with the writer's COMMIT (alerting.infra.commit_riders): on ingest,
        # the wake then costs no round trip of its own.
        transaction.on_commit(CommitRider(
            wrapper=shared_connection(), sql=statements[True], params=params,
            run=write, failed=not_written,
        ))
    else:
        write()


_CLAIM = """
UPDATE tenants_tenantduework AS d
SET due_at = %(lease_until)s, claimed = true, version = d.version + 1
FROM (
    SELECT id FROM tenants_tenantduework
    WHERE kind = %(kind)s AND due_at <= %(now)s
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE d.id = due.id
RETURNING d.tenant_id, d.version
"""


def due_work_claim(*, kind: DueKind | str, now: datetime, limit: int) -> list[tuple[int, int]]:
    """Claim up to `limit` due entries of `kind`, oldest first: (tenant id, version) each."""
    with shared_connection().cursor() as cursor:
        cursor.execute(_CLAIM, {
            "kind": str(kind), "now": now, "limit": limit, "lease_until": now + CLAIM_LEASE,
        })
        return [(tenant_id, version) for tenant_id, version in cursor.fetchall()]


_SETTLE = """
UPDATE tenants_tenantduework
SET due_at = CASE WHEN version = %(version)s THEN %(next)s::timestamptz
                  ELSE LEAST(due_at, %(next)s::timestamptz) END,
    claimed = false,
    version = version + 1
WHERE tenant_id = %(tenant)s AND kind = %(kind)s
"""


def due_work_settle(
    *, tenant_id: int, kind: DueKind | str, version: int, next_due_at: datetime | None
) -> None:
    """After a visit: the entry becomes the recomputed next due time.

    A writer that noted work since the claim moved the version: its time is
    kept if it is earlier (LEAST ignores a null).
    """
    with shared_connection().cursor() as cursor:
        cursor.execute(_SETTLE, {
            "version": version, "next": next_due_at, "tenant": tenant_id, "kind": str(kind),
        })
