"""Two workers sending the same incident at once open one ServiceNow ticket, not two."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial

import pytest
from django.db import connection

from receivers.delivery.ticket_lock import ticket_lock
from tests.receivers.helpers import alert_message, transport
from tests.receivers.tickets.servicenow_standin import PASSWORD, StandInServiceNow


def two_workers_send(servicenow, lock: Callable[[], AbstractContextManager]) -> list:
    """Both workers look the ticket up at the same time, then create it if none is found."""
    results: list = []
    start = threading.Barrier(2)

    def worker() -> None:
        sender = transport("servicenow", config=servicenow.config(),
                           secrets={"password": PASSWORD})
        start.wait()
        try:
            with lock():
                results.append(sender.send(alert_message(alert_group_id=7, incident=1)))
        finally:
            connection.close()  # the thread's own connection, which held the lock

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def servicenow(httpserver):
    return StandInServiceNow(httpserver, lookup_seconds=0.3)


def test_without_a_lock_two_workers_would_open_two_tickets(servicenow):
    two_workers_send(servicenow, nullcontext)

    assert len(servicenow.incidents) == 2  # the failure the lock exists for


def test_under_the_ticket_lock_the_second_worker_notes_the_first_ones_ticket(db, servicenow):
    lock = partial(ticket_lock, receiver_id=1, alert_group_id=7, incident=1, schema="alpha")

    results = two_workers_send(servicenow, lock)

    assert len(servicenow.incidents) == 1
    assert [result.vendor_ref for result in results] == [results[0].vendor_ref] * 2
    [sys_id] = servicenow.incidents
    assert len(servicenow.work_notes[sys_id]) == 1  # the second worker's note
