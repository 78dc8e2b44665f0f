"""Spare schemas prepared in bulk, in parallel, through the product's own fill (issue 22).

`spares_prepare_parallel` starts `processes` preparers, each a Python process
with its own connection calling `tenants.spare_schemas.spare_schema_prepare`
(as a Celery worker's fill does) with the pool's size set to the spares
wanted, until the pool is full or the deadline passes. The fill clones
outside its lock, so the preparers' clones overlap; only the bookkeeping is
serialised. Each preparer reports the duration of each spare it made.

    python -m bench.spare_fill --pool 10000 --processes 2   # by hand, against DATABASE_URL
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402


def spares_prepare_parallel(*, wanted: int, processes: int, seconds: float,
                            synchronous_commit: bool = True) -> dict:
    """Prepare spares until `wanted` fresh ones exist (or `seconds` pass); the figures.

    Called after django.setup() (the template is brought up to date here first,
    so the preparers do not all wait for one migration).
    """
    from tenants.schema_clone import template_schema_ensure
    from tenants.spare_schemas import spare_schemas_count

    template_schema_ensure()
    before = spare_schemas_count()
    command = [sys.executable, "-m", "bench.spare_fill", "--pool", str(wanted),
               "--seconds", str(seconds)]
    if not synchronous_commit:
        command.append("--no-synchronous-commit")
    load_start, started = os.getloadavg()[0], time.perf_counter()
    children = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,  # noqa: S603
                                 text=True, env=os.environ.copy())
                for _ in range(processes)]
    durations: list[float] = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a spare preparer failed ({child.returncode})")
        durations += json.loads(out.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    made = spare_schemas_count() - before
    return {
        "processes": processes, "synchronous_commit": synchronous_commit,
        "spares_before": before, "spares_made": made, "spares_wanted": wanted,
        "total_s": wall, "wall_per_spare_ms": wall / made * 1000 if made else None,
        "clone_median_ms": statistics.median(durations) * 1000 if durations else None,
        "clone_p95_ms": percentile(durations, 95) * 1000 if durations else None,
        "load_start": load_start, "load_end": os.getloadavg()[0],
        "durations": durations,
    }


def spares_lines(figures: dict) -> list[str]:
    """The preparation's table rows."""
    if not figures.get("spares_made"):
        return [f"| spares prepared in this run | none ({figures.get('spares_before', 0)} "
                "were ready) |"]
    sync = "" if figures["synchronous_commit"] else ", synchronous_commit off"
    return [
        f"| spare preparation, {figures['spares_made']} spares, {figures['processes']} "
        f"preparers{sync} (load {figures['load_start']:.1f} -> {figures['load_end']:.1f}) | "
        f"{figures['total_s']:.0f} s in all, {figures['wall_per_spare_ms']:.0f} ms a spare |",
        f"| one spare's clone, in a preparer (median / p95) | "
        f"{figures['clone_median_ms']:.0f} ms / {figures['clone_p95_ms']:.0f} ms |",
    ]


def _preparer(pool: int, seconds: float, synchronous_commit: bool) -> list[float]:
    """One preparer: spare_schema_prepare until the pool holds `pool` or time is up."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")
    django.setup()
    from django.db import connection
    from django.test import override_settings

    from tenants.spare_schemas import spare_schema_prepare

    if not synchronous_commit:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    durations: list[float] = []
    deadline = time.monotonic() + seconds
    with override_settings(HERALD_TENANT_SPARE_SCHEMAS=pool):
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if spare_schema_prepare() is None:
                break
            durations.append(time.perf_counter() - started)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, required=True, help="fresh spares wanted in all")
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--processes", type=int, default=0,
                        help="run this many preparers and print the figures")
    parser.add_argument("--no-synchronous-commit", action="store_true")
    args = parser.parse_args()
    if args.processes:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")
        django.setup()
        figures = spares_prepare_parallel(wanted=args.pool, processes=args.processes,
                                          seconds=args.seconds,
                                          synchronous_commit=not args.no_synchronous_commit)
        figures.pop("durations")
        print(json.dumps(figures, indent=2))
        return
    print(json.dumps(_preparer(args.pool, args.seconds, not args.no_synchronous_commit)))


if __name__ == "__main__":
    main()
