"""Raw SQL on Django's connection, with the parameters bound by the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper


@contextmanager
def server_bound_cursor() -> Iterator[CursorWrapper]:
    """A cursor for the current tenant whose parameters travel beside the SQL.

    Django's cursors bind on the client: every value is escaped into the SQL
    text, which PostgreSQL then has to lex again. For the tens of kilobytes
    of JSON an ingest writes, that costs about a millisecond on each side.
    The cursor is Django's wrapper, so errors, query logging and
    `CaptureQueriesContext` behave as usual.
    """
    with connection.cursor():
        pass  # connects, and sets the tenant's search_path on the session
    raw = ServerBindingCursor(connection.connection)
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor
