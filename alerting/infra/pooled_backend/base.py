"""django-tenants' backend for a pooler in transaction mode (PgBouncer `pool_mode = transaction`).

django-tenants selects a tenant with a session-level `SET search_path`. Behind
a transaction pooler the session is not ours: between two transactions the
pooler may hand our server connection to another client, and give us one
another client left in *its* tenant's schema. A statement outside a
transaction (Django's autocommit) is a transaction of its own, so the SET and
the query after it may even run on two different server connections.

Here the search_path is set per transaction instead, with `set_config(...,
true)` (SET LOCAL), which PostgreSQL forgets at COMMIT or ROLLBACK:

- inside `transaction.atomic()`, before the transaction's first statement
  (and again if the tenant changes within it, or a savepoint rollback undid it);
- outside one, each statement runs in a short transaction of its own that
  sets it first.

Nothing is ever set on the session, so no server connection carries a tenant
to the next client. Selected by DATABASE_POOLER=transaction
(alerting/infra/settings.py), which also turns server-side cursors off (a
cursor outlives its transaction) and prepared statements off unless
DATABASE_PREPARE_THRESHOLD is set (PgBouncer >= 1.21 with
max_prepared_statements keeps them).
"""

from __future__ import annotations

from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import quote_schema_name
from psycopg.pq import TransactionStatus

from alerting.infra.session_check import IdleSessionCheckMixin


class DatabaseWrapper(IdleSessionCheckMixin, tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The search_path this open transaction has set (None: not yet in this one).
        self._path_in_transaction: str | None = None
        self.execute_wrappers.insert(0, self._with_search_path)

    def _handle_search_path(self, cursor=None) -> None:
        """Never on the session (see the module's docstring)."""

    def _search_path(self) -> str:
        return ",".join(quote_schema_name(name) for name in self._get_cursor_search_paths())

    def _set_local_search_path(self, path: str) -> None:
        # On the driver's connection: no Django wrapper, so no recursion. In a
        # transaction (Django's autocommit is off here), psycopg begins one first.
        self.connection.execute("SELECT set_config('search_path', %s, true)", [path])
        self._path_in_transaction = path

    def _with_search_path(self, execute, sql, params, many, context):
        path = self._search_path()
        if self.get_autocommit():
            # A statement alone: its own short transaction, path first (psycopg's
            # block: BEGIN ... COMMIT, or ROLLBACK on an error; Django's state untouched).
            with self.connection.transaction():
                self._set_local_search_path(path)
                return execute(sql, params, many, context)
        if (
            self.connection.info.transaction_status == TransactionStatus.IDLE
            or self._path_in_transaction != path
        ):
            self._set_local_search_path(path)
        return execute(sql, params, many, context)

    def savepoint_rollback(self, sid) -> None:
        super().savepoint_rollback(sid)
        self._path_in_transaction = None  # it may have undone our set_config

    def _commit(self):
        self._path_in_transaction = None
        return super()._commit()

    def _rollback(self):
        self._path_in_transaction = None
        return super()._rollback()
