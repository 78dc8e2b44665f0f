"""Periodic work that costs what is due: visit only the tenants the index names.

A tick claims the due entries of one kind (tenants/due_work.py), runs each
tenant's work in its schema, recomputes the tenant's next due time from its
own tables and settles the entry. With more due tenants than one batch, the
batches are fanned out as tasks across the workers. The full sweep
(`due_work_reindex_all`) recomputes every tenant's entries now and then, the
bound within which work written behind the index's back still runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from tenants.databases import shared_connection
from tenants.due_work import due_work_claim, due_work_note, due_work_settle
from tenants.models import Tenant
from tenants.models_due import DueKind

logger = logging.getLogger(__name__)

# Each kind: what a visit runs in the tenant's schema, and how the tenant's
# next due time is read from its own tables. Dotted paths: the apps own them,
# and tenants (the lower layer) imports none of them at import time.
_KINDS: dict[str, tuple[str, str]] = {
    DueKind.ESCALATION: ("escalation.due.escalation_due_run",
                         "escalation.due.escalation_next_due_at"),
    DueKind.NOTIFICATIONS: ("receivers.due.notifications_due_run",
                            "receivers.due.notifications_next_due_at"),
    DueKind.SILENCES: ("alerting.due.silences_due_run", "alerting.due.silences_next_due_at"),
}


def claim_lag(kind: str) -> timedelta:
    """How long after its entry's time a kind's work is due.

    Notifications' entries hold next_attempt_at; the sweep acts on them once
    they are HERALD_SWEEP_PENDING_AFTER_SECONDS old (read at each tick, so a
    changed setting applies to entries already written).
    """
    if kind == DueKind.NOTIFICATIONS:
        return timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    return timedelta(0)

# A visit that fails is tried again this much later (not at every tick).
RETRY_AFTER_FAILURE = timedelta(seconds=60)


@dataclass(frozen=True)
class KindHandlers:
    run: Callable[[], int]
    next_due_at: Callable[..., datetime | None]


def kind_handlers(kind: str) -> KindHandlers:
    run, next_due_at = _KINDS[kind]
    return KindHandlers(run=import_string(run), next_due_at=import_string(next_due_at))


@dataclass(frozen=True)
class TickResult:
    claimed: int
    ran_inline: int
    batches_fanned_out: int
    done: int


def due_work_tick(
    *, kind: str, fan_out: Callable[[str, list[tuple[int, int]]], None] | None = None
) -> TickResult:
    """Claim what is due of `kind`; run it here if it fits one batch, else fan it out."""
    claimed = due_work_claim(
        kind=kind, now=timezone.now() - claim_lag(kind),
        limit=settings.HERALD_DUE_TICK_MAX_TENANTS,
    )
    size = settings.HERALD_DUE_BATCH_SIZE
    batches = [claimed[start:start + size] for start in range(0, len(claimed), size)]
    if len(batches) <= 1 or fan_out is None:
        done = sum(due_work_visit(kind=kind, claims=batch) for batch in batches)
        return TickResult(claimed=len(claimed), ran_inline=len(claimed),
                          batches_fanned_out=0, done=done)
    for batch in batches:
        fan_out(kind, batch)
    return TickResult(claimed=len(claimed), ran_inline=0, batches_fanned_out=len(batches),
                      done=0)


def due_work_visit(*, kind: str, claims: list[tuple[int, int]]) -> int:
    """Run `kind` in each claimed tenant and settle its entry; how much work ran."""
    handlers = kind_handlers(kind)
    versions = dict(claims)
    done = 0
    for tenant in Tenant.objects.filter(id__in=versions).order_by("id"):
        next_due: datetime | None
        try:
            with tenant_context(tenant):
                done += handlers.run()
                next_due = handlers.next_due_at(now=timezone.now())
        except Exception:  # one tenant's failure must not stop the others' work
            logger.exception("due %s work of tenant %s failed; retried later", kind, tenant.slug)
            next_due = timezone.now() + RETRY_AFTER_FAILURE
        due_work_settle(tenant_id=tenant.id, kind=kind, version=versions[tenant.id],
                        next_due_at=next_due)
    return done


def due_work_reindex(*, tenant_ids: list[int]) -> int:
    """The full sweep's part: each tenant's entries recomputed from its tables (lowered only).

    Returns how many entries are now due or will be.
    """
    noted = 0
    now = timezone.now()
    handlers = {kind: kind_handlers(kind) for kind in _KINDS}
    for tenant in Tenant.objects.filter(id__in=tenant_ids).order_by("id"):
        with tenant_context(tenant):
            for kind, kind_handler in handlers.items():
                try:
                    due_at = kind_handler.next_due_at(now=now)
                except Exception:
                    logger.exception("reindex of %s for tenant %s failed", kind, tenant.slug)
                    due_at = now  # a visit will find out
                if due_at is not None:
                    due_work_note(kind=kind, due_at=due_at)
                    noted += 1
    return noted


def tenant_ids_all() -> list[int]:
    with shared_connection().cursor() as cursor:
        cursor.execute("SELECT id FROM tenants_tenant WHERE schema_name <> 'public' ORDER BY id")
        return [row[0] for row in cursor.fetchall()]
