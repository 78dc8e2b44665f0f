"""A kept connection is checked without a round trip, and one the server ended is replaced.

Django's health check asks the server `SELECT 1` before the first query of
every request; Herald's backends poll the socket first (alerting.infra.session_check).
The libpq protocol trace shows what the client actually sent.
"""

import select
import time
from pathlib import Path

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept_session():
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _sent_while(wrapper, tmp_path: Path, work) -> tuple[object, str]:
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        wrapper.connection.pgconn.trace(out.fileno())
        try:
            result = work()
        finally:
            wrapper.connection.pgconn.untrace()
    return result, trace.read_text()


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_an_idle_session_is_judged_usable_without_a_word_to_the_server(kept_session, tmp_path):
    usable, sent = _sent_while(kept_session, tmp_path, kept_session.is_usable)

    assert usable is True
    assert sent == ""


def test_a_session_with_something_pending_is_asked_as_django_asks(kept_session, tmp_path):
    with kept_session.cursor() as cursor:
        cursor.execute("LISTEN herald_session_check")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY herald_session_check")
    poller = select.poll()
    poller.register(kept_session.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(5000), "the notification never reached the socket"

    usable, sent = _sent_while(kept_session, tmp_path, kept_session.is_usable)

    assert usable is True
    assert "SELECT 1" in sent


def test_a_session_the_server_ended_is_found_and_the_next_query_reconnects(kept_session):
    first_pid = _backend_pid(kept_session)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first_pid])
    deadline = time.monotonic() + 5
    while kept_session.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)

    assert kept_session.is_usable() is False

    # As at the start of the next request: Django's health check closes it, and
    # the query runs on a new session instead of failing.
    kept_session.health_check_enabled = True
    kept_session.health_check_done = False
    assert _backend_pid(kept_session) != first_pid
