"""Tenant creation for bench/tenants.py: from a spare schema, and migrated the old way.

Each figure is a duration per tenant; the tenants made here are dropped again.
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.common import percentile


def tenants_create_from_spares(count: int) -> tuple[list[float], list[float]]:
    """Tenants made from a spare schema: (creation durations, spare preparation durations).

    Each spare is prepared here, as a worker would, before the creation that
    claims it; the refill a creation enqueues is left out (no worker runs).
    """
    from django.test import override_settings

    from tenants import services
    from tenants.models import Tenant
    from tenants.spare_schemas import spare_schema_prepare

    created, prepared = [], []
    refill, services._spare_schemas_refill = services._spare_schemas_refill, lambda: None
    try:
        with override_settings(HERALD_TENANT_SPARE_SCHEMAS=1):
            for index in range(count):
                started = time.perf_counter()
                if spare_schema_prepare() is None:
                    raise RuntimeError("no spare prepared")
                prepared.append(time.perf_counter() - started)
                slug = f"bts-{uuid.uuid4().hex[:8]}-{index}"
                started = time.perf_counter()
                tenant = services.tenant_create(slug=slug, name=slug, domain=f"{slug}.localhost")
                created.append(time.perf_counter() - started)
                tenant.delete(force_drop=True)
    finally:
        services._spare_schemas_refill = refill
    Tenant.objects.filter(slug__startswith="bts-").delete()
    return created, prepared


def tenants_create_migrated(count: int) -> list[float]:
    """For comparison: tenants whose schema is migrated (the path before cloning)."""
    from django.test import override_settings

    from tenants.models import Tenant
    from tenants.services import tenant_create

    durations = []
    with override_settings(HERALD_TENANT_SCHEMA_CLONE=False):
        for index in range(count):
            slug = f"btm-{uuid.uuid4().hex[:8]}-{index}"
            started = time.perf_counter()
            tenant = tenant_create(slug=slug, name=slug, domain=f"{slug}.localhost")
            durations.append(time.perf_counter() - started)
            tenant.delete(force_drop=True)
    Tenant.objects.filter(slug__startswith="btm-").delete()
    return durations


def creation_lines(created: list[float], from_spares: list[float], prepared: list[float],
                    migrated: list[float]) -> tuple[dict, list[str]]:
    """The creation figures (ms) and their table rows."""
    def ms(values: list[float], share: float | None = None) -> float | None:
        if not values:
            return None
        return (percentile(values, share) if share else statistics.median(values)) * 1000

    data = {
        "create_clone_median_ms": ms(created), "create_clone_p95_ms": ms(created, 95),
        "created_now": len(created),
        "create_spare_median_ms": ms(from_spares), "create_spare_p95_ms": ms(from_spares, 95),
        "spare_prepare_median_ms": ms(prepared), "spare_prepare_p95_ms": ms(prepared, 95),
        "create_migrated_median_ms": ms(migrated),
    }
    lines = []
    if created:
        lines.append(f"| creation per tenant, cloned, no spare (median / p95) | "
                     f"{data['create_clone_median_ms']:.0f} ms / "
                     f"{data['create_clone_p95_ms']:.0f} ms ({len(created)} in a row) |")
    if from_spares:
        lines += [
            f"| creation per tenant from a spare (median / p95) | "
            f"{data['create_spare_median_ms']:.1f} ms / {data['create_spare_p95_ms']:.1f} ms "
            f"({len(from_spares)} in a row) |",
            f"| preparing one spare (median / p95) | {data['spare_prepare_median_ms']:.0f} ms / "
            f"{data['spare_prepare_p95_ms']:.0f} ms |",
        ]
    if migrated:
        lines.append(f"| creation per tenant, migrated (median) | "
                     f"{data['create_migrated_median_ms']:.0f} ms ({len(migrated)}) |")
    return data, lines
