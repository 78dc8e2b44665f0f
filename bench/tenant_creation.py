"""Tenant creation for bench/tenants.py: in bulk from spares, cloned, migrated the old way.

`tenants_create_bulk` makes the benchmark's tenants: the spares they need are
prepared first by parallel preparers (bench/spare_fill.py), then each tenant is
created with tenant_create, which renames one. The other measures are samples
for comparison; the tenants they make are dropped again.
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.common import percentile


def tenants_create_bulk(slugs: list[str], *, seconds: float, preparers: int,
                        synchronous_commit: bool = True) -> dict:
    """Create the tenants `slugs` that do not exist yet, within `seconds`; the figures.

    Spares for the missing ones are prepared first (up to 90 % of the time),
    then each creation claims one. A creation that finds none free clones
    (counted apart). The refill a creation enqueues is left out (no worker runs).
    """
    from django.test import override_settings

    from bench.spare_fill import spares_prepare_parallel
    from tenants import services
    from tenants.models import Tenant

    deadline = time.monotonic() + seconds
    existing = set(Tenant.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    missing = [slug for slug in slugs if slug not in existing]
    figures: dict = {"spares": {}, "from_spare": [], "cloned": []}
    if missing:
        figures["spares"] = spares_prepare_parallel(
            wanted=len(missing), processes=preparers, seconds=seconds * 0.9,
            synchronous_commit=synchronous_commit)
    claimed: list[bool] = []
    claim = services.spare_schema_claim
    refill, services._spare_schemas_refill = services._spare_schemas_refill, lambda: None
    services.spare_schema_claim = lambda **kwargs: claimed.append(claim(**kwargs)) or claimed[-1]
    try:
        # Any positive pool size turns the spares on; no fill runs here.
        with override_settings(HERALD_TENANT_SPARE_SCHEMAS=max(1, len(missing))):
            for slug in missing:
                if time.monotonic() > deadline:
                    break
                claimed.clear()
                started = time.perf_counter()
                services.tenant_create(slug=slug, name=slug, domain=f"{slug}.localhost")
                seconds_taken = time.perf_counter() - started
                figures["from_spare" if claimed == [True] else "cloned"].append(seconds_taken)
                existing.add(slug)
    finally:
        services._spare_schemas_refill = refill
        services.spare_schema_claim = claim
    figures["existing"] = len(existing)
    return figures


def tenants_create_cloned(count: int) -> list[float]:
    """For comparison: tenants cloned from the template while no spare is free."""
    return _creations_timed(count, prefix="btc", HERALD_TENANT_SPARE_SCHEMAS=0)


def _creations_timed(count: int, *, prefix: str, **overrides) -> list[float]:
    """`count` tenant_create calls under the settings `overrides`, each timed, then dropped."""
    from django.test import override_settings

    from tenants.models import Tenant
    from tenants.services import tenant_create

    durations = []
    with override_settings(**overrides):
        for index in range(count):
            slug = f"{prefix}-{uuid.uuid4().hex[:8]}-{index}"
            started = time.perf_counter()
            tenant = tenant_create(slug=slug, name=slug, domain=f"{slug}.localhost")
            durations.append(time.perf_counter() - started)
            tenant.delete(force_drop=True)
    Tenant.objects.filter(slug__startswith=f"{prefix}-").delete()
    return durations


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
    return _creations_timed(count, prefix="btm", HERALD_TENANT_SCHEMA_CLONE=False)


def creation_lines(bulk: dict, cloned: list[float], from_spares: list[float],
                   prepared: list[float], migrated: list[float]) -> tuple[dict, list[str]]:
    """The creation figures (ms) and their table rows."""
    from bench.spare_fill import spares_lines

    def ms(values: list[float], share: float | None = None) -> float | None:
        if not values:
            return None
        return (percentile(values, share) if share else statistics.median(values)) * 1000

    spares = {key: value for key, value in bulk.get("spares", {}).items() if key != "durations"}
    data = {
        "created_now_from_spare": len(bulk["from_spare"]),
        "created_now_cloned": len(bulk["cloned"]),
        "create_spare_median_ms": ms(bulk["from_spare"]),
        "create_spare_p95_ms": ms(bulk["from_spare"], 95),
        "create_spare_max_ms": max(bulk["from_spare"], default=0) * 1000,
        "create_spare_total_s": sum(bulk["from_spare"]),
        "create_bulk_cloned_median_ms": ms(bulk["cloned"]),
        "spare_preparation": spares,
        "create_clone_median_ms": ms(cloned), "create_clone_p95_ms": ms(cloned, 95),
        "sample_from_spare_median_ms": ms(from_spares),
        "sample_spare_prepare_median_ms": ms(prepared),
        "create_migrated_median_ms": ms(migrated),
    }
    lines = spares_lines(spares) if spares else []
    if bulk["from_spare"]:
        lines.append(
            f"| creation per tenant from a spare, tenant_create (median / p95 / max) | "
            f"{data['create_spare_median_ms']:.1f} ms / {data['create_spare_p95_ms']:.1f} ms / "
            f"{data['create_spare_max_ms']:.0f} ms ({len(bulk['from_spare'])} in a row, "
            f"{data['create_spare_total_s']:.0f} s in all) |")
    if bulk["cloned"]:
        lines.append(f"| creations that found no spare and cloned (median) | "
                     f"{len(bulk['cloned'])}, {data['create_bulk_cloned_median_ms']:.0f} ms |")
    if cloned:
        lines.append(f"| creation per tenant, cloned, no spare (median / p95) | "
                     f"{data['create_clone_median_ms']:.0f} ms / "
                     f"{data['create_clone_p95_ms']:.0f} ms ({len(cloned)} in a row) |")
    if from_spares:
        lines.append(f"| one spare prepared then claimed, in a row (median) | "
                     f"{data['sample_spare_prepare_median_ms']:.0f} ms, then "
                     f"{data['sample_from_spare_median_ms']:.1f} ms ({len(from_spares)}) |")
    if migrated:
        lines.append(f"| creation per tenant, migrated (median) | "
                     f"{data['create_migrated_median_ms']:.0f} ms ({len(migrated)}) |")
    return data, lines
