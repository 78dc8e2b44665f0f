"""Noise control's pure models: the CPU each ingest pays for them (medians of 7 runs).

    .venv/bin/python bench/noise.py

The database side (one read and one bulk update for flapping, one read for an
active storm, one counting statement after commit) is in bench/ingest.py's figures.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerting.flapping import FlapSettings, FlapState, flap_observe
from alerting.storms import Baseline, RateState, rate_observe

CALLS = 20_000


def per_call(run) -> float:
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) / CALLS)
    return statistics.median(timings) * 1e6


def flapping() -> None:
    settings, state = FlapSettings(), FlapState()
    for index in range(CALLS):
        state = flap_observe(state, at=float(index * 30), settings=settings)


def storm_same_bucket() -> None:
    state = RateState(bucket_start=0.0, recent=Baseline(12.0, 9.0, 500))
    state = rate_observe(state, count=1, now=1.0).state
    for _ in range(CALLS):
        state = rate_observe(state, count=1, now=2.0).state


def storm_bucket_closes() -> None:
    seasons = {hour: Baseline(20.0, 16.0, 4) for hour in range(168)}
    state = RateState(recent=Baseline(12.0, 9.0, 500))
    for index in range(CALLS):
        state = rate_observe(state, count=12, now=300.0 * index + 1, seasons=seasons).state


if __name__ == "__main__":
    for name, run in (("flap_observe, one change", flapping),
                      ("rate_observe, same bucket", storm_same_bucket),
                      ("rate_observe, a bucket closes (tenant)", storm_bucket_closes)):
        print(f"{name:40} {per_call(run):6.2f} µs per call (median of 7)")
