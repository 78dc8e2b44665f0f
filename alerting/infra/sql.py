"""Raw SQL on Django's connection, with the parameters bound by the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper


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
