"""After-commit statements that travel with the COMMIT: one round trip for both.

A writer that must tell the database something once its transaction has
committed (the due-work note with the delivery wake, tenants/due_work.py)
registers an `on_commit` hook, and run after the commit that hook is a round
trip of its own, on the webhook's way to the receiver. A `CommitRider` is
such a hook that also says its statement. Herald's backend
(`CommitRidersMixin`) sends the riders of its own connection in one pipeline
with the COMMIT, after it, in a transaction of their own, and reads the
COMMIT's answer first:

- a COMMIT that fails fails as it always did (the riders then ran in vain,
  which a rider must allow: the due-work note only ever makes work earlier);
- a rider that fails is told (`failed`), and the commit stands;
- riders registered in a savepoint that rolled back are gone with it, as
  Django's hooks are;
- anywhere else (another connection's rider, a transaction psycopg began
  itself, behind a pooler in transaction mode, a libpq without pipelines) a
  rider is a plain hook, run after the commit.

Riders ride only on a transaction begun by
`alerting.infra.sql.transaction_first_execute` (the webhook's), where psycopg
is in autocommit mode: then it never opens a transaction of its own for the
statements after the COMMIT, which run in one implicit transaction that the
pipeline's Sync ends. (On a transaction psycopg began, it could find the
COMMIT already answered when the rider is queued and wrap the rider in a
BEGIN that nothing commits.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import debug_transaction

from alerting.infra.sql import pipelines_usable


@dataclass(eq=False)
class CommitRider:
    """An on_commit hook (`run`) whose whole work is one statement on `wrapper`."""

    wrapper: BaseDatabaseWrapper
    sql: str
    params: Mapping[str, Any]
    run: Callable[[], None]
    failed: Callable[[Exception], None]

    def __call__(self) -> None:
        self.run()


class CommitRidersMixin:
    """For a psycopg DatabaseWrapper: its riders go in the COMMIT's round trip."""

    def _commit(self):
        riders = [hook for _, hook, _ in self.run_on_commit
                  if isinstance(hook, CommitRider) and hook.wrapper is self]
        raw = self.connection
        if (
            not riders
            or raw is None
            or not raw.autocommit  # psycopg began this transaction (see above)
            or not pipelines_usable()
        ):
            return super()._commit()
        commit = raw.cursor()
        error: psycopg.Error | None = None
        with debug_transaction(self, "COMMIT"):
            try:
                with raw.pipeline():
                    commit.execute("COMMIT")
                    for rider in riders:
                        cursor = ServerBindingCursor(raw)
                        if self.queries_logged:  # in Django's query log, as a hook's would be
                            cursor = self.make_debug_cursor(cursor)
                        cursor.execute(rider.sql, rider.params)
            except psycopg.Error as exc:
                error = exc
        if error is not None and commit.statusmessage != "COMMIT":
            with self.wrap_database_errors:
                raise error
        self.run_on_commit = [entry for entry in self.run_on_commit if entry[1] not in riders]
        if error is not None:
            for rider in riders:
                rider.failed(error)
