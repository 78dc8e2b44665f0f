"""Fair workers: a cap on the sends one tenant makes at once in a worker process.

A worker's task threads are the scarce resource: a task waits for its sends,
so a tenant whose receiver answers in 2 s (or whose template renders for
seconds) would otherwise hold every thread while the other tenants'
notifications queue behind it. Sending first takes one of its tenant's
slots (`HERALD_TENANT_MAX_CONCURRENT_SENDS` per process): a send in the
task's thread takes one, and a batch's sends side by side on the process's
send threads take one together, since one task thread waits for them. A
send that finds none is not made: its notification goes back to pending
without counting an attempt and is retried shortly, so the task's thread is
free at once. A thread can only be held waiting by sends that have a slot,
so one tenant holds at most that many threads, whatever its backlog.

The slot count is per process (no broker or database round trip on the hot
path): several worker processes give a tenant that many slots each.
"""

from __future__ import annotations

import os
import random
import threading

from django.conf import settings

# A send to a receiver known to answer quickly may wait this long for a slot:
# a quick tenant that keeps every thread busy would otherwise lose the race
# for its own slots now and then and wait out a retry. Never longer than one
# quick send (receivers.delivery.threads.SLOW_SECONDS), so no thread is held.
QUICK_WAIT_SECONDS = 0.1
# A busy tenant's notification is retried after about the time its sends take
# (a slot is likely free by then), within these bounds, jittered so the
# retries of a backlog do not arrive together.
BUSY_RETRY_MIN_SECONDS = 0.25
BUSY_RETRY_MAX_SECONDS = 5.0


class SendSlots:
    """Sends in flight per tenant, at most `cap` each (0: no cap). Thread-safe, no Django."""

    def __init__(self) -> None:
        self._in_flight: dict[str, int] = {}
        self._freed = threading.Condition()

    def take(self, tenant: str, *, cap: int, wait: float = 0.0) -> bool:
        """Take a slot: at once, or within `wait` seconds; False if the tenant has none free."""
        with self._freed:
            if cap > 0 and not self._freed.wait_for(
                lambda: self._in_flight.get(tenant, 0) < cap, timeout=wait
            ):
                return False
            self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
            return True

    def release(self, tenant: str) -> None:
        with self._freed:
            left = self._in_flight.get(tenant, 0) - 1
            if left > 0:
                self._in_flight[tenant] = left
            else:
                self._in_flight.pop(tenant, None)
            self._freed.notify_all()

    def in_flight(self, tenant: str) -> int:
        with self._freed:
            return self._in_flight.get(tenant, 0)


def busy_retry_seconds(*, send_seconds: float, rng: random.Random | None = None) -> float:
    """When to retry a notification whose tenant had no free slot."""
    base = min(max(send_seconds, BUSY_RETRY_MIN_SECONDS), BUSY_RETRY_MAX_SECONDS)
    return base * (rng or random).uniform(0.5, 1.5)


_process: tuple[int, SendSlots] | None = None
_process_lock = threading.Lock()


def _slots() -> SendSlots:
    """This process's slots; a forked child starts with none taken."""
    global _process
    with _process_lock:
        if _process is None or _process[0] != os.getpid():
            _process = (os.getpid(), SendSlots())
        return _process[1]


def send_slot_take(*, tenant: str, wait: float = 0.0) -> bool:
    return _slots().take(tenant, cap=settings.HERALD_TENANT_MAX_CONCURRENT_SENDS, wait=wait)


def send_slot_release(*, tenant: str) -> None:
    _slots().release(tenant)


def sends_in_flight(*, tenant: str) -> int:
    return _slots().in_flight(tenant)


class SendSlot:
    """One send's claim on a slot of its tenant: taken once at most, freed once at most."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.held = False

    def take(self) -> bool:
        self.held = self.held or send_slot_take(tenant=self.tenant)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            send_slot_release(tenant=self.tenant)
