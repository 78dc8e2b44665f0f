"""A transaction's last statement with its COMMIT (alerting.infra.sql.transaction_last_execute).

The claim's lease ends its transaction this way: one round trip for both.
Each test writes in a real transaction on the test database, begun as the
claim begins its own (`transaction_first_execute`), and reads the outcome
from another session, as another worker would.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, connections, transaction

from alerting.infra.sql import (
    server_bound_cursor,
    transaction_first_execute,
    transaction_last_execute,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS public.last_written (id int PRIMARY KEY)")
        cursor.execute("TRUNCATE public.last_written")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE public.last_written")


def _seen_elsewhere() -> list[int]:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM public.last_written ORDER BY id")
            return [row[0] for row in cursor.fetchall()]
    finally:
        other.close()


INSERT_RETURNING = "INSERT INTO public.last_written (id) VALUES (%(id)s) RETURNING id * 10"


def test_the_last_statement_commits_with_its_answer_and_the_rows_read_after(table):
    with transaction.atomic(), server_bound_cursor() as cursor:
        transaction_first_execute(cursor, INSERT_RETURNING, {"id": 1})
        went_along = transaction_last_execute(cursor, INSERT_RETURNING, {"id": 2})
        answer = cursor.fetchall()
        assert _seen_elsewhere() == [1, 2]  # committed already, inside the block

    assert went_along and answer == [(20,)]
    with connection.cursor() as cursor:  # the session goes on as usual
        cursor.execute("SELECT count(*) FROM public.last_written")
        assert cursor.fetchone() == (2,)


def test_a_last_statement_that_fails_raises_and_nothing_is_committed(table):
    with pytest.raises(IntegrityError), transaction.atomic(), server_bound_cursor() as cursor:
        transaction_first_execute(cursor, INSERT_RETURNING, {"id": 1})
        transaction_last_execute(cursor, INSERT_RETURNING, {"id": 1})

    assert _seen_elsewhere() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_with_an_after_commit_hook_django_commits_and_runs_it(table):
    ran = []
    with transaction.atomic(), server_bound_cursor() as cursor:
        transaction_first_execute(cursor, INSERT_RETURNING, {"id": 1})
        transaction.on_commit(lambda: ran.append(_seen_elsewhere()))
        went_along = transaction_last_execute(cursor, INSERT_RETURNING, {"id": 2})
        assert _seen_elsewhere() == []  # not yet: the block's end commits

    assert not went_along and ran == [[1, 2]]


def test_on_a_transaction_psycopg_began_or_in_a_savepoint_django_commits(table):
    with transaction.atomic(), server_bound_cursor() as cursor:
        cursor.execute(INSERT_RETURNING, {"id": 1})  # psycopg sends its own BEGIN
        assert not transaction_last_execute(cursor, INSERT_RETURNING, {"id": 2})
        assert _seen_elsewhere() == []
    assert _seen_elsewhere() == [1, 2]

    with transaction.atomic(), server_bound_cursor() as cursor:
        transaction_first_execute(cursor, INSERT_RETURNING, {"id": 3})
        with transaction.atomic():
            assert not transaction_last_execute(cursor, INSERT_RETURNING, {"id": 4})
        assert _seen_elsewhere() == [1, 2]
    assert _seen_elsewhere() == [1, 2, 3, 4]
