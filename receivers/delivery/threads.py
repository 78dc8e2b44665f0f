"""Running a batch's sends: in the task's own thread while they are quick, side by side once not.

A quick receiver (a local relay, a healthy vendor) is sent to in the task's
thread: handing each send to another thread cost more CPU than the send.
The first slow answer sends the rest of the batch side by side, so a slow
receiver delays a batch by at most one send and holds no other batch up; a
receiver whose recent answers are slow on average is sent to side by side
from the start. (An average, because one answer can look slow only because
the task's thread waited for the GIL behind the worker's other threads.)

Side by side means the process's send threads: made on demand, kept for
their HTTP connections (a thread per batch would connect anew each time),
and so many that no send waits in a queue, where it could outlive the lease
its claim took.

Sending takes one of the tenant's slots (receivers.delivery.fairness): each send in
the task's thread takes one, and the sends side by side take one together,
since either way it is one worker thread that waits. A send that gets none
is not made and comes back as None, for its caller to put back. That is what
keeps one tenant's slow batches from holding all the worker's threads.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from receivers.delivery.fairness import QUICK_WAIT_SECONDS, send_slot_release, send_slot_take
from receivers.delivery.send import Send, SendOutcome

# An answer slower than this is slow (and must stay well under any timeout).
SLOW_SECONDS = 0.1
# Weight of the newest answer in a receiver's average.
_NEWEST_WEIGHT = 0.2
# Threads start only when every existing one is busy.
_MAX_SEND_THREADS = 1024

# Per process: (schema, receiver id) -> its recent answers' average seconds.
_average: dict[tuple[str, int | None], float] = {}
_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _send_threads() -> ThreadPoolExecutor:
    """The process's send threads, made after any fork (a forked pool has no threads)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(_MAX_SEND_THREADS, "herald-send"))
        return _pool[1]


def _key(send: Send) -> tuple[str, int | None]:
    return (connection.schema_name, send.receiver_id)


def _slow(send: Send) -> bool:
    return _average.get(_key(send), 0.0) > SLOW_SECONDS


def _known_quick(send: Send) -> bool:
    return _average.get(_key(send), SLOW_SECONDS + 1) <= SLOW_SECONDS


def receiver_send_seconds(*, receiver_id: int | None) -> float:
    """What a send to this receiver of the current tenant took lately (0: not known here)."""
    return _average.get((connection.schema_name, receiver_id), 0.0)


def send_remember(send: Send, outcome: SendOutcome) -> None:
    """Count a send's duration in its receiver's average (any path that sends)."""
    key = _key(send)
    with _lock:
        before = _average.get(key, outcome.duration)
        _average[key] = before + _NEWEST_WEIGHT * (outcome.duration - before)


def _run_holding(send: Send, tenant: str) -> SendOutcome:
    """Run a send that holds a slot of `tenant`; the slot is free again once it ends."""
    try:
        return send.run()
    finally:
        send_slot_release(tenant=tenant)


def sends_run(sends: list[Send]) -> list[SendOutcome | None]:
    """Each send run at most once; the outcomes in the order of `sends`.

    None: not sent, because the tenant's sends in this process were at their
    cap; the caller puts that notification back without counting an attempt.
    """
    tenant = connection.schema_name
    outcomes: list[SendOutcome | None] = [None] * len(sends)
    side_by_side = [i for i, send in enumerate(sends) if _slow(send)]
    in_turn = [i for i, send in enumerate(sends) if not _slow(send)]
    # One short wait per batch at most: after that the tenant is busy.
    may_wait = True
    for position, i in enumerate(in_turn):
        wait = QUICK_WAIT_SECONDS if may_wait and _known_quick(sends[i]) else 0.0
        if not send_slot_take(tenant=tenant, wait=wait):
            may_wait = False
            continue
        outcomes[i] = _run_holding(sends[i], tenant)
        send_remember(sends[i], outcomes[i])
        if outcomes[i].duration > SLOW_SECONDS:
            side_by_side += in_turn[position + 1 :]
            break
    # The sends side by side run on the process's send threads, not the
    # worker's: what they hold of the worker is this one task thread waiting,
    # so together they take one slot. (A slot each would cut a healthy 200 ms
    # vendor's backlog to cap / 0.2 s, for no other tenant's gain.)
    if side_by_side and send_slot_take(tenant=tenant):
        try:
            running = _send_threads().map(lambda i: sends[i].run(), side_by_side)
            for i, outcome in zip(side_by_side, running, strict=True):
                outcomes[i] = outcome
                send_remember(sends[i], outcome)
        finally:
            send_slot_release(tenant=tenant)
    return outcomes
