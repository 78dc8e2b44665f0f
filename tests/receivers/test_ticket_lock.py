"""The ticket lock: one sender per incident and receiver; a held lock makes a bounded wait."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from receivers.delivery.ticket_lock import ticket_lock, ticket_lock_key
from receivers.transports import TransportError


def hold_in_another_connection(held: threading.Event, release: threading.Event, **key):
    try:
        with ticket_lock(**key):
            held.set()
            release.wait(10)
    finally:
        connection.close()


def test_a_second_sender_of_the_same_incident_waits_a_bounded_time_then_retries_later(db):
    key = {"receiver_id": 3, "alert_group_id": 7, "incident": 2, "schema": "alpha"}
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_in_another_connection, args=(held, release),
                              kwargs=key)
    holder.start()
    assert held.wait(10)
    try:
        with pytest.raises(TransportError) as waited, ticket_lock(**key, wait_seconds=0.2):
            pass
        assert not waited.value.permanent
        # Another incident, receiver or tenant is not held up.
        with ticket_lock(**{**key, "incident": 3}, wait_seconds=0.2):
            pass
        with ticket_lock(**{**key, "schema": "beta"}, wait_seconds=0.2):
            pass
    finally:
        release.set()
        holder.join(10)
    with ticket_lock(**key, wait_seconds=1):  # released by the holder
        pass


def test_the_key_differs_by_tenant_receiver_group_and_incident():
    base = {"schema": "alpha", "receiver_id": 1, "alert_group_id": 1, "incident": 1}
    keys = {ticket_lock_key(**base)} | {
        ticket_lock_key(**{**base, name: value})
        for name, value in (("schema", "beta"), ("receiver_id", 2), ("alert_group_id", 2),
                            ("incident", 2))
    }
    assert len(keys) == 5
