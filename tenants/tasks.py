"""Thin tasks of the due-work index (fanned-out visits, the full sweep) and of spare schemas."""

from __future__ import annotations

from django.conf import settings

from alerting.infra.celery import app
from tenants.due_ticks import (
    TickResult,
    due_work_reindex,
    due_work_tick,
    due_work_visit,
    tenant_ids_all,
)
from tenants.spare_schemas import spare_schemas_fill


@app.task(acks_late=True)
def due_work_visit_batch(kind: str, claims: list[list[int]]) -> int:
    """One batch of due tenants of one kind (claims: [tenant id, version])."""
    return due_work_visit(kind=kind, claims=[(tenant_id, version) for tenant_id, version in claims])


def _fan_out(kind: str, claims: list[tuple[int, int]]) -> None:
    due_work_visit_batch.apply_async((kind, [list(claim) for claim in claims]))


def due_work_tick_fanned(*, kind: str) -> TickResult:
    return due_work_tick(kind=kind, fan_out=_fan_out)


@app.task(acks_late=True)
def due_work_reindex_batch(tenant_ids: list[int]) -> int:
    return due_work_reindex(tenant_ids=tenant_ids)


@app.task(acks_late=True)
def due_work_full_sweep() -> int:
    """Periodic, slow: every tenant's entries recomputed, in batches across the workers."""
    ids = tenant_ids_all()
    size = settings.HERALD_DUE_REINDEX_BATCH_SIZE
    for start in range(0, len(ids), size):
        due_work_reindex_batch.apply_async((ids[start:start + size],))
    return len(ids)


@app.task(acks_late=True)
def spare_schemas_fill_task() -> int:
    """After a tenant creation and periodically: spare schemas back to the setting."""
    return spare_schemas_fill()
