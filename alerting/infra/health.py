"""Liveness and readiness: what a load balancer and an operator need to know.

Liveness is cheap (no I/O): the process answers. Readiness checks what
serving and delivering need: the database, the broker, at least one Celery
worker that answers a ping, and how much delivery work is waiting.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import psutil
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from alerting.infra.tenant_databases import tenant_database_aliases

_STARTED_AT = psutil.Process().create_time()


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str = ""
    took_ms: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def uptime_seconds() -> float:
    return round(time.time() - _STARTED_AT, 1)


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    clock = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # any failure of a dependency means "not ready"
        result = CheckResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    took = round((time.perf_counter() - clock) * 1000)
    return CheckResult(ok=result.ok, detail=result.detail, took_ms=took, counts=result.counts)


def database_check() -> CheckResult:
    """Each database answers: the shared one and every one tenants live on."""
    for alias in tenant_database_aliases():
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    return CheckResult(ok=True)


def broker_check() -> CheckResult:
    from alerting.infra.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0,
            timeout=settings.HERALD_HEALTH_TIMEOUT_SECONDS,
        )
        # Opening a channel talks to the server (Redis pings), not just a socket.
        conn.default_channel  # noqa: B018
    return CheckResult(ok=True)


def worker_check() -> CheckResult:
    """A worker answers a ping: `limit=1` returns on the first answer."""
    from alerting.infra.celery import app

    replies = app.control.ping(timeout=settings.HERALD_HEALTH_TIMEOUT_SECONDS, limit=1)
    if not replies:
        return CheckResult(
            ok=False,
            detail=f"no Celery worker answered within {settings.HERALD_HEALTH_TIMEOUT_SECONDS}s",
        )
    return CheckResult(ok=True, counts={"answered": len(replies)})


def _tenant_schemas() -> dict[str, list[str]]:
    """Each database's tenant schemas."""
    from tenants.selectors import tenant_list

    schemas: dict[str, list[str]] = defaultdict(list)
    for tenant in tenant_list():
        schemas[tenant.database].append(tenant.schema_name)
    return schemas


def _backlog_on(alias: str, schemas: list[str], overdue_before) -> tuple[int, int]:
    quote = connection.ops.quote_name
    # One statement over the database's tenant schemas rather than a round trip each.
    union = " UNION ALL ".join(
        "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')), "  # noqa: S608 - quoted schema names
        "count(*) FILTER (WHERE state IN ('pending', 'sending') AND next_attempt_at < %s) "
        f"FROM {quote(schema)}.receivers_notification"
        for schema in schemas
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(p), 0), coalesce(sum(o), 0) FROM ({union}) AS t(p, o)",  # noqa: S608
            [overdue_before] * len(schemas),
        )
        pending, overdue = cursor.fetchone()
    return int(pending), int(overdue)


def backlog_check() -> CheckResult:
    """Pending notifications over all tenants, and those the sweep should have taken."""
    by_database = _tenant_schemas()
    overdue_before = timezone.now() - timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    pending = overdue = 0
    for alias, schemas in by_database.items():
        on_it = _backlog_on(alias, schemas, overdue_before)
        pending, overdue = pending + on_it[0], overdue + on_it[1]
    schemas = [schema for listed in by_database.values() for schema in listed]
    limit = settings.HERALD_HEALTH_MAX_OVERDUE
    ok = limit is None or overdue <= limit
    detail = "" if ok else f"{overdue} notifications overdue (limit {limit})"
    counts = {"tenants": len(schemas), "pending": pending, "overdue": overdue}
    return CheckResult(ok=ok, detail=detail, counts=counts)


def liveness() -> dict[str, Any]:
    return {"status": "ok", "uptime_seconds": uptime_seconds()}


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, report). The worker is pinged only when the broker is up: it cannot answer else."""
    checks = {"database": _timed(database_check), "broker": _timed(broker_check)}
    if checks["broker"].ok:
        checks["worker"] = _timed(worker_check)
    else:
        checks["worker"] = CheckResult(ok=False, detail="not checked: the broker is down")
    checks["backlog"] = (
        _timed(backlog_check)
        if checks["database"].ok
        else CheckResult(ok=False, detail="not checked: the database is down")
    )
    ready = all(result.ok for result in checks.values())
    return ready, {
        "status": "ok" if ready else "unavailable",
        "uptime_seconds": uptime_seconds(),
        "checks": {name: asdict(result) for name, result in checks.items()},
    }
