"""Fair workers: at most a few threads of a worker process deliver one tenant at once.

A worker's task threads are the scarce resource: a task waits for its sends,
so a tenant whose receiver answers in 2 s (or whose template renders for
seconds) would otherwise hold every thread while the other tenants'
notifications queue behind it.

So a delivery task first joins its tenant's *runners* in this process, at
most `HERALD_TENANT_MAX_CONCURRENT_SENDS` of them. A runner claims, sends and
records, then claims again while its tenant has due notifications. A task
that finds its tenant's runners at the cap hands over: it touches nothing,
notes that work was asked for, and ends at once, freeing its thread. The
database is the queue: its notifications are due, and a runner's next claim
takes them along. A runner leaves only when its last claim left nothing due
behind and nothing was handed over since that claim began, so nothing handed
over is left waiting (and a lost process leaves it to the sweep).

Nothing is put back and retried while a tenant is busy, so a tenant's
backlog costs no claims that send nothing.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from django.conf import settings


@dataclass
class _Tenant:
    runners: int = 0
    # Hand-overs so far: a runner compares it with what it was when its
    # claim began, to know whether something came after the claim read.
    handed_over: int = 0


class TenantRunners:
    """Who delivers each tenant in this process (0 as cap: no cap). Thread-safe, no Django."""

    def __init__(self) -> None:
        self._tenants: dict[str, _Tenant] = {}
        self._lock = threading.Lock()

    def join(self, tenant: str, *, cap: int) -> int | None:
        """Become one of the tenant's runners; None: at the cap, handed over to them.

        A runner gets the hand-over count its first claim is compared with.
        """
        with self._lock:
            state = self._tenants.setdefault(tenant, _Tenant())
            if cap > 0 and state.runners >= cap:
                state.handed_over += 1
                return None
            state.runners += 1
            return state.handed_over

    def carry_on(self, tenant: str, *, seen: int, more_due: bool) -> int | None:
        """After a claim that began at hand-over count `seen`: claim again, or leave (None).

        Again when that claim may have left due notifications behind, or a
        task handed over since it began (its notification may have come
        after the claim read). Otherwise the runner has left.
        """
        with self._lock:
            state = self._tenants[tenant]
            if more_due or state.handed_over != seen:
                return state.handed_over
            self._leave(tenant, state)
            return None

    def leave(self, tenant: str, *, seen: int) -> bool:
        """Leave before the work is done (time spent, an error): True if some may be left."""
        with self._lock:
            state = self._tenants[tenant]
            self._leave(tenant, state)
            return state.handed_over != seen

    def runners(self, tenant: str) -> int:
        with self._lock:
            state = self._tenants.get(tenant)
            return state.runners if state else 0

    def _leave(self, tenant: str, state: _Tenant) -> None:
        state.runners -= 1
        if state.runners == 0:
            del self._tenants[tenant]


_process: tuple[int, TenantRunners] | None = None
_process_lock = threading.Lock()


def _runners() -> TenantRunners:
    """This process's runners; a forked child starts with none."""
    global _process
    with _process_lock:
        if _process is None or _process[0] != os.getpid():
            _process = (os.getpid(), TenantRunners())
        return _process[1]


def runner_join(*, tenant: str) -> int | None:
    return _runners().join(tenant, cap=settings.HERALD_TENANT_MAX_CONCURRENT_SENDS)


def runner_carry_on(*, tenant: str, seen: int, more_due: bool) -> int | None:
    return _runners().carry_on(tenant, seen=seen, more_due=more_due)


def runner_leave(*, tenant: str, seen: int) -> bool:
    return _runners().leave(tenant, seen=seen)


def tenant_runners(*, tenant: str) -> int:
    """How many threads of this process deliver the tenant now."""
    return _runners().runners(tenant)
