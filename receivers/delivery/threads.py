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

Either way one worker thread waits for the batch: that is what the
tenant's cap on runners counts (receivers.delivery.fairness).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

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


def send_remember(send: Send, outcome: SendOutcome) -> None:
    """Count a send's duration in its receiver's average (any path that sends)."""
    key = _key(send)
    with _lock:
        before = _average.get(key, outcome.duration)
        _average[key] = before + _NEWEST_WEIGHT * (outcome.duration - before)


def sends_run(sends: list[Send]) -> list[SendOutcome]:
    """Each send run once; the outcomes in the order of `sends`."""
    outcomes: list[SendOutcome | None] = [None] * len(sends)
    side_by_side = [i for i, send in enumerate(sends) if _slow(send)]
    in_turn = [i for i, send in enumerate(sends) if not _slow(send)]
    for position, i in enumerate(in_turn):
        outcomes[i] = sends[i].run()
        send_remember(sends[i], outcomes[i])
        if outcomes[i].duration > SLOW_SECONDS:
            side_by_side += in_turn[position + 1 :]
            break
    if side_by_side:
        running = _send_threads().map(lambda i: sends[i].run(), side_by_side)
        for i, outcome in zip(side_by_side, running, strict=True):
            outcomes[i] = outcome
            send_remember(sends[i], outcome)
    return outcomes
