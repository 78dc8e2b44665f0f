"""Running a batch's sends: in the task's own thread while they are quick, side by side once not.

A quick receiver (a local relay, a healthy vendor) is sent to in the task's
thread: handing each send to another thread cost more CPU than the send.
The first slow answer (or a receiver found slow within the last minute)
sends the rest of the batch side by side, one thread each, so a slow
receiver delays a batch by at most one send and holds no other batch up.
Every send of a batch runs at once or in its own thread: none waits in a
queue, so none outlives the lease its claim took.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from receivers.sending import Send, SendOutcome

# An answer slower than this makes a receiver "slow" for _SLOW_MEMORY seconds.
SLOW_SECONDS = 0.05
_SLOW_MEMORY = 60.0

# Per process: (schema, receiver id) -> when it was last found slow.
_slow_since: dict[tuple[str, int | None], float] = {}
_lock = threading.Lock()


def _key(send: Send) -> tuple[str, int | None]:
    return (connection.schema_name, send.receiver_id)


def _known_slow(send: Send, now: float) -> bool:
    found = _slow_since.get(_key(send))
    return found is not None and now - found < _SLOW_MEMORY


def sends_run(sends: list[Send]) -> list[SendOutcome]:
    """Each send run once; the outcomes in the order of `sends`."""
    now = time.monotonic()
    outcomes: list[SendOutcome | None] = [None] * len(sends)
    side_by_side = [i for i, send in enumerate(sends) if _known_slow(send, now)]
    in_turn = [i for i, send in enumerate(sends) if not _known_slow(send, now)]
    for position, i in enumerate(in_turn):
        outcomes[i] = sends[i].run()
        if outcomes[i].duration > SLOW_SECONDS:
            with _lock:
                _slow_since[_key(sends[i])] = time.monotonic()
            side_by_side += in_turn[position + 1 :]
            break
    if side_by_side:
        with ThreadPoolExecutor(len(side_by_side), thread_name_prefix="herald-send") as pool:
            for i, outcome in zip(
                side_by_side, pool.map(lambda i: sends[i].run(), side_by_side), strict=True
            ):
                outcomes[i] = outcome
    return outcomes
