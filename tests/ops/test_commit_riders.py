"""Statements that ride with a COMMIT (alerting.infra.commit_riders): after it, never instead of it.

Each test writes in a real transaction on the test database, begun as the
webhook begins its own (`transaction_first_execute`), and reads the outcome
from another session, as a worker would.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, connections, transaction

from alerting.infra.commit_riders import CommitRider
from alerting.infra.sql import server_bound_cursor, transaction_first_execute

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tables():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS public.rider_written (id int PRIMARY KEY, "
                       "seen_written int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)")
        cursor.execute("CREATE TABLE IF NOT EXISTS public.rider_noted (note text)")
        cursor.execute("TRUNCATE public.rider_written, public.rider_noted")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE public.rider_written, public.rider_noted")


def _rider(sql: str, ran: list, failures: list) -> CommitRider:
    return CommitRider(
        wrapper=connections["default"], sql=sql, params={},
        run=lambda: ran.append("as a hook"), failed=failures.append,
    )


def _other_session(sql: str) -> list[tuple]:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        other.close()


def _begin_with(sql: str) -> None:
    with server_bound_cursor() as cursor:
        transaction_first_execute(cursor, sql, {})


NOTE_WHAT_IT_SEES = ("INSERT INTO public.rider_noted "
                     "SELECT 'sees ' || count(*) FROM public.rider_written")


def test_a_rider_runs_after_the_commit_and_sees_what_it_committed(tables):
    ran, failures = [], []
    with transaction.atomic():
        _begin_with("INSERT INTO public.rider_written (id) VALUES (1), (2)")
        transaction.on_commit(_rider(NOTE_WHAT_IT_SEES, ran, failures))

    assert _other_session("SELECT note FROM public.rider_noted") == [("sees 2",)]
    assert ran == [] and failures == []  # it went with the COMMIT, not as a hook after it


def test_a_rider_that_fails_is_told_and_the_commit_stands(tables):
    ran, failures = [], []
    with transaction.atomic():
        _begin_with("INSERT INTO public.rider_written (id) VALUES (1)")
        transaction.on_commit(_rider("SELECT 1 / 0", ran, failures))

    assert _other_session("SELECT id FROM public.rider_written") == [(1,)]
    assert [type(f).__name__ for f in failures] == ["DivisionByZero"]
    with connection.cursor() as cursor:  # the session is usable afterwards
        cursor.execute("SELECT count(*) FROM public.rider_written")
        assert cursor.fetchone() == (1,)


def test_a_commit_that_fails_raises_as_before_and_its_riders_do_nothing(tables):
    ran, failures = [], []
    with pytest.raises(IntegrityError), transaction.atomic():
        _begin_with("INSERT INTO public.rider_noted VALUES ('not yet')")
        with connection.cursor() as cursor:
            # Two rows with one id: the deferred unique check fails at COMMIT.
            cursor.execute("ALTER TABLE public.rider_written DROP CONSTRAINT rider_written_pkey")
            cursor.execute("INSERT INTO public.rider_written (id) VALUES (7), (7)")
        transaction.on_commit(_rider(NOTE_WHAT_IT_SEES, ran, failures))

    assert _other_session("SELECT note FROM public.rider_noted") == []
    assert ran == [] and failures == []


def test_a_rider_of_a_savepoint_rolled_back_is_gone_with_it(tables):
    ran, failures = [], []
    with transaction.atomic():
        _begin_with("INSERT INTO public.rider_written (id) VALUES (1)")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            transaction.on_commit(_rider(NOTE_WHAT_IT_SEES, ran, failures))
            raise ZeroDivisionError

    assert _other_session("SELECT note FROM public.rider_noted") == []
    assert ran == [] and failures == []


def test_a_rider_of_another_connection_runs_as_a_hook_after_the_commit(tables):
    ran, failures = [], []
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            _begin_with("INSERT INTO public.rider_written (id) VALUES (1)")
            rider = _rider(NOTE_WHAT_IT_SEES, ran, failures)
            rider.wrapper = other
            transaction.on_commit(rider)
    finally:
        other.close()

    assert ran == ["as a hook"] and failures == []
    assert _other_session("SELECT note FROM public.rider_noted") == []


def test_on_a_transaction_psycopg_began_a_rider_runs_as_a_hook_after_the_commit(tables):
    ran, failures = [], []
    with transaction.atomic():
        with connection.cursor() as cursor:  # psycopg sends its own BEGIN
            cursor.execute("INSERT INTO public.rider_written (id) VALUES (1)")
        transaction.on_commit(_rider(NOTE_WHAT_IT_SEES, ran, failures))

    assert ran == ["as a hook"] and failures == []
    with connection.cursor() as cursor:  # and the session is in autocommit again
        cursor.execute("SELECT count(*) FROM public.rider_written")
        assert cursor.fetchone() == (1,)
    assert connection.get_autocommit() and connection.connection.autocommit
