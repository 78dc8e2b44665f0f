"""The delivery relay: a worker thread that hears the wakes and starts deliveries at once.

One relay per database listens (`LISTEN herald_delivery`): the relays of all
worker processes race for a session advisory lock, and the one holding it
listens while the others wait to take over (PostgreSQL frees the lock when
its holder's connection drops, a killed process's included). For each wake
(a tenant's schema) the relay runs the tenant's delivery task in this
process, in one of `HERALD_RELAY_THREADS` threads, without a trip through
the broker; when they are all busy (a burst, a tenant with slow receivers)
it publishes the task to the broker instead, for any worker to take.

The task is the one the broker would have carried (`deliver_notifications`
with no ids: the tenant's due notifications), run as its body with the
tenant switch, fairness cap and connection handling of a worker's run, so a
relay's run and a task's claim the same way and never deliver one
notification twice. A wake lost on the way (the
leader changing hands, a network blip) leaves its notifications pending for
the sweep.

The relay keeps its own connection, outside Django's: LISTEN needs a session
that a transaction-pooling PgBouncer does not keep. `HERALD_RELAY_DATABASE_URL`
points it past a pooler.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from django.conf import settings
from django.db import close_old_connections, connection, connections
from django_tenants.utils import tenant_context

from receivers.delivery.wake import WAKE_CHANNEL

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of the relay's leadership (the bytes of "herald-r").
RELAY_LEADER_LOCK = 0x6865_7261_6C64_2D72
_RETRY_SECONDS = 2.0
_LISTEN_TIMEOUT_SECONDS = 1.0
# A schema name as PostgreSQL and django-tenants allow it; anything else that
# reaches the channel is not ours.
_MAX_SCHEMA_CHARS = 63


def _connection_params() -> dict[str, Any]:
    if settings.HERALD_RELAY_DATABASE_URL:
        return {"conninfo": settings.HERALD_RELAY_DATABASE_URL}
    params = connection.get_connection_params()
    wanted = ("dbname", "user", "password", "host", "port", "sslmode", "connect_timeout")
    return {name: params[name] for name in wanted if params.get(name) not in (None, "")}


class DeliveryRelay:
    """Listens for wakes while it leads; runs or publishes each tenant's delivery."""

    def __init__(self, *, threads: int) -> None:
        self._stopping = threading.Event()
        self._thread_count = threads
        self._slots = threading.BoundedSemaphore(threads)
        self._runs = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="relay-run")
        self._thread = threading.Thread(target=self._serve, name="delivery-relay", daemon=True)
        self._params = _connection_params()
        self.leading = threading.Event()

    def start(self) -> DeliveryRelay:
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop listening and wait for the runs under way (a warm shutdown)."""
        self._stopping.set()
        self._thread.join(timeout)
        self._close_run_connections(timeout=timeout)
        self._runs.shutdown(wait=True, cancel_futures=False)

    def _close_run_connections(self, *, timeout: float) -> None:
        """Each run thread closes its own database connections, once the runs are over.

        A run keeps its thread's connection for the next (a new one per run
        would cost more than the run); Django's connections belong to their
        thread, so each closes its own, and all wait at a barrier so that
        every thread takes exactly one of these jobs.
        """
        everyone = threading.Barrier(self._thread_count, timeout=timeout)

        def close() -> None:
            connections.close_all()
            # A thread stuck in a run breaks the barrier: its connection goes with the process.
            with contextlib.suppress(threading.BrokenBarrierError):
                everyone.wait()

        for _ in range(self._thread_count):
            self._runs.submit(close)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                self._lead_and_listen()
            except psycopg.Error as exc:
                # PostgreSQL restarting, the network: the sweep covers the gap.
                logger.warning("delivery relay lost its connection: %s", type(exc).__name__)
            finally:
                self.leading.clear()
            self._stopping.wait(_RETRY_SECONDS)

    def _lead_and_listen(self) -> None:
        with psycopg.connect(**self._params, autocommit=True) as conn:
            while not self._stopping.is_set():
                (leader,) = conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", [RELAY_LEADER_LOCK]
                ).fetchone()
                if leader:
                    break
                self._stopping.wait(_RETRY_SECONDS)
            else:
                return
            conn.execute(f"LISTEN {WAKE_CHANNEL}")
            self.leading.set()
            while not self._stopping.is_set():
                woken = {n.payload for n in conn.notifies(timeout=_LISTEN_TIMEOUT_SECONDS,
                                                          stop_after=1)}
                if woken:
                    # Take what else arrived with it, then act on each tenant once.
                    woken.update(n.payload for n in conn.notifies(timeout=0))
                for schema in woken:
                    if 0 < len(schema) <= _MAX_SCHEMA_CHARS:
                        self._deliver(schema)

    def _deliver(self, schema: str) -> None:
        if self._slots.acquire(blocking=False):
            self._runs.submit(self._run_here, schema)
        else:
            _publish(schema)

    def _run_here(self, schema: str) -> None:
        try:
            _run(schema)
        finally:
            self._slots.release()


def _run(schema: str) -> None:
    from receivers.tasks import deliver_notifications

    # The task's body, not `apply()`: Celery's eager run builds a tracer and
    # logs a line at every call, more time than the claim, on the way to the
    # receiver. Around it the connection is kept or dropped as the task's
    # signals do in a worker (alerting.infra.celery); Celery's own signals are
    # not sent, their handlers read a task request this run does not have.
    close_old_connections()
    try:
        with _in_tenant(schema):
            deliver_notifications.run([])
    except Exception as exc:  # whatever it was, the notifications wait for the sweep
        logger.warning("delivery relay run failed (%s); the sweep retries", type(exc).__name__)
    finally:
        close_old_connections()


def _publish(schema: str) -> None:
    from receivers.tasks import deliver_notifications

    with _in_tenant(schema):
        deliver_notifications.apply_async(([],))


def _in_tenant(schema: str):
    """The tenant's context (as the task's own switch would set it), cached per process."""
    from receivers.tasks import deliver_notifications

    return tenant_context(deliver_notifications.get_tenant_for_schema(schema_name=schema))


_relay: DeliveryRelay | None = None


def delivery_relay_start() -> DeliveryRelay | None:
    """Start this process's relay (in notify mode); None in broker mode."""
    global _relay
    if settings.HERALD_DELIVERY_WAKE != "notify" or _relay is not None:
        return _relay
    _relay = DeliveryRelay(threads=settings.HERALD_RELAY_THREADS).start()
    return _relay


def delivery_relay_stop() -> bool:
    """Stop this process's relay; True if one was running."""
    global _relay
    if _relay is None:
        return False
    _relay.stop()
    _relay = None
    return True
