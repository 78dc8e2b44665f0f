"""Raw SQL on Django's connection, with the parameters bound by the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper
from psycopg import Pipeline
from psycopg.pq import TransactionStatus


@contextmanager
def server_bound_cursor(using: BaseDatabaseWrapper | None = None) -> Iterator[CursorWrapper]:
    """A cursor for the current tenant whose parameters travel beside the SQL.

    Django's cursors bind on the client: every value is escaped into the SQL
    text, which PostgreSQL then has to lex again. For the tens of kilobytes
    of JSON an ingest writes, that costs about a millisecond on each side.
    The cursor is Django's wrapper, so errors, query logging and
    `CaptureQueriesContext` behave as usual. psycopg prepares a statement
    run this way after DATABASE_PREPARE_THRESHOLD runs on a connection, so
    PostgreSQL plans it once, not at every run.

    `using` is another wrapper than the thread's `default` (the shared
    schema's, tenants.databases.shared_connection).
    """
    wrapper = connection if using is None else using
    with wrapper.cursor():
        pass  # connects, and sets the tenant's search_path on the session
    raw = ServerBindingCursor(wrapper.connection)
    wrapped = (
        wrapper.make_debug_cursor(raw)
        if wrapper.queries_logged
        else wrapper.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor


def pipelines_usable() -> bool:
    """May a statement share a round trip with its transaction's BEGIN or COMMIT?

    Not behind a pooler in transaction mode (it may hand the pipeline's parts
    to different server connections), nor with a libpq without pipelines.
    """
    return settings.DATABASE_POOLER != "transaction" and Pipeline.is_supported()


def transaction_first_execute(cursor: CursorWrapper, sql: str, params: Any) -> None:
    """Run the first statement of Django's open transaction in the same round trip as its BEGIN.

    psycopg begins a transaction by sending `BEGIN` and waiting for the answer
    before it sends the statement: a round trip that costs, on a quiet
    machine, about what the statement costs (a wake-up of both processes),
    on the webhook's and the claim's way to the receiver. Here the `BEGIN` is
    ours and goes in one pipeline with the statement and a Sync (which,
    inside the transaction, commits nothing); the rows are read after it.

    psycopg is told autocommit for that: with its BEGIN sent by us, the
    server's transaction stays open, later statements run in it, and psycopg's
    commit() and rollback() end it (they send COMMIT or ROLLBACK whenever a
    transaction is open); Django's set_autocommit(True) after either finds
    psycopg agreeing. Errors surface here as Django's, as from
    `cursor.execute`. Anywhere else (no transaction, one under way, an
    isolation level or read-only mode psycopg would put in its BEGIN, a
    pooler in transaction mode, a libpq without pipelines) it is a plain
    `execute`.
    """
    wrapper = cursor.db
    raw = wrapper.connection
    if (
        wrapper.get_autocommit()
        or raw is None
        or raw.autocommit
        or raw.info.transaction_status != TransactionStatus.IDLE
        or raw.isolation_level is not None
        or raw.read_only is not None
        or raw.deferrable is not None
        or not pipelines_usable()
    ):
        cursor.execute(sql, params)
        return
    raw.autocommit = True  # idle and no pipeline: psycopg sends nothing for this
    with wrapper.wrap_database_errors, raw.pipeline():
        raw.execute("BEGIN")
        cursor.execute(sql, params)


def transaction_last_execute(cursor: CursorWrapper, sql: str, params: Any) -> bool:
    """Run the last statement of a transaction with its COMMIT in the same round trip.

    Only for a transaction that `transaction_first_execute` began (psycopg in
    autocommit mode, so its own commit() later finds nothing open and sends
    nothing) and that registered no after-commit hook of its own connection.
    The statement's rows are read after the COMMIT's answer. The caller's
    block must run no SQL after it: Django still counts the block open, but
    the server's transaction is over. Returns whether the COMMIT went along;
    where it could not, this is a plain `execute` and Django commits as usual.
    A statement or a COMMIT that fails raises as from `cursor.execute`.
    """
    wrapper = cursor.db
    raw = wrapper.connection
    if (
        wrapper.get_autocommit()
        or raw is None
        or not raw.autocommit  # psycopg began this transaction: its commit() must end it
        or raw.info.transaction_status != TransactionStatus.INTRANS
        or wrapper.run_on_commit
        or wrapper.savepoint_ids
        or not pipelines_usable()
    ):
        cursor.execute(sql, params)
        return False
    with wrapper.wrap_database_errors, raw.pipeline():
        cursor.execute(sql, params)
        raw.execute("COMMIT")
    return True


def sql_compact(sql: str) -> str:
    """The statement without its `--` comments and runs of whitespace.

    psycopg parses a statement's placeholders on every run unless the text is
    at most 4,096 bytes, which it caches (psycopg._queries, about 0.3 ms a run
    for the ingest's upsert). For our own constant statements, whose string
    literals hold neither `--` nor runs of spaces.
    """
    without_comments = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return re.sub(r"\s+", " ", without_comments).strip()


def jsonb_value(value: Any) -> Any:
    """A json/jsonb column's value: Django's connection hands it over as its text."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value
