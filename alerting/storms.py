"""Alert storms (pure): a rate far above its usual level, against a rolling baseline.

Alerts are counted in buckets of `bucket_seconds` (5 minutes). Each bucket
that closes updates two baselines, exponentially weighted mean and deviation
of the count per bucket:

- the *recent* one (every bucket, weight `alpha`): it follows a slow ramp
  and adopts a sustained step within a few buckets;
- the *seasonal* one, per hour of the week (weight `seasonal_alpha`), of the
  busiest bucket of that hour, updated when the hour ends: Monday's 03:00
  batch job becomes usual for Mondays at 03:00 after a week or two. Kept for
  the tenant only (168 rows at most), not per group.

The usual level is the higher of the two (mean and deviation each). The
current bucket is a storm once its count exceeds all of: `floor` alerts,
`factor` times the usual mean, and the usual mean plus `sensitivity`
deviations (`storm_trigger_at`). Nothing is a storm before `min_samples`
buckets of history (a new tenant's first hour, or Alertmanager sending
everything it has after a restart of Herald, is no storm).

A storm calms down at the close of a bucket whose count is at most
`calm_factor` times the usual mean (or below the floor): hysteresis, so the
storm does not end and start again around one threshold. Storm buckets feed
the baseline too, so a sustained step becomes the new usual level and the
storm it caused ends (docs/noise-control.md has figures).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

HOURS_OF_WEEK = 7 * 24
# A closed gap longer than this many buckets (two days of 5 minutes) decays
# the baseline as this many empty buckets would: the loop stays bounded.
MAX_GAP_BUCKETS = 576
NEVER = 2**31 - 1  # trigger_at when no count can be a storm (no history yet)


@dataclass(frozen=True)
class StormSettings:
    bucket_seconds: int = 300
    alpha: float = 0.2
    seasonal_alpha: float = 0.3
    sensitivity: float = 4.0
    factor: float = 4.0
    floor: int = 20
    calm_factor: float = 2.0
    min_samples: int = 12


@dataclass(frozen=True)
class Baseline:
    """An exponentially weighted mean and variance of counts per bucket."""

    mean: float = 0.0
    var: float = 0.0
    samples: int = 0

    @property
    def deviation(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def updated(self, count: float, alpha: float) -> Baseline:
        if self.samples == 0:
            return Baseline(mean=float(count), var=0.0, samples=1)
        diff = count - self.mean
        increment = alpha * diff
        return Baseline(
            mean=self.mean + increment,
            var=(1 - alpha) * (self.var + diff * increment),
            samples=self.samples + 1,
        )


@dataclass(frozen=True)
class RateState:
    """One scope's (the tenant's, or a group's) counting: stored in alerting.NoiseRate."""

    bucket_start: float = 0.0  # epoch seconds, a multiple of bucket_seconds
    count: int = 0  # alerts in the current bucket so far
    recent: Baseline = field(default_factory=Baseline)
    storm_since: float | None = None
    storm_alerts: int = 0  # alerts since the storm began
    trigger_at: int = NEVER  # the current bucket is a storm once count exceeds it
    hour_peak: int = 0  # the busiest closed bucket of the current hour


@dataclass(frozen=True)
class Observed:
    state: RateState
    # Hour-of-week slots whose seasonal baseline changed (the tenant's scope only).
    seasons: dict[int, Baseline]
    started: bool = False
    ended: bool = False


def hour_of_week(epoch: float) -> int:
    """0 = Monday 00:00-01:00 UTC … 167 = Sunday 23:00-24:00 UTC."""
    days = int(epoch // 86400)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return weekday * 24 + int(epoch % 86400 // 3600)


def usual(recent: Baseline, seasonal: Baseline | None, settings: StormSettings) -> Baseline:
    """The level a bucket is compared with: the higher of the recent and the seasonal."""
    if seasonal is None or seasonal.samples < 2:
        return recent
    return Baseline(
        mean=max(recent.mean, seasonal.mean),
        var=max(recent.var, seasonal.var),
        samples=recent.samples,
    )


def storm_trigger_at(level: Baseline, settings: StormSettings) -> int:
    if level.samples < settings.min_samples:
        return NEVER
    return math.floor(max(
        settings.floor,
        settings.factor * level.mean,
        level.mean + settings.sensitivity * level.deviation,
    ))


def _calm(count: int, level: Baseline, settings: StormSettings) -> bool:
    return count < settings.floor or count <= settings.calm_factor * level.mean


def rate_observe(
    state: RateState,
    *,
    count: int,
    now: float,
    seasons: Mapping[int, Baseline] | None = None,
    settings: StormSettings = StormSettings(),
) -> Observed:
    """`count` alerts came at `now` (0: only let time pass): close buckets, decide the storm.

    `seasons` is the tenant's seasonal baselines by hour of week (None for a
    group's scope: no seasonal baseline kept).
    """
    size = settings.bucket_seconds
    current = math.floor(now / size) * size
    changed: dict[int, Baseline] = {}

    def season_of(hour: int) -> Baseline | None:
        return changed.get(hour) or (seasons or {}).get(hour)

    started = ended = False
    if state.bucket_start == 0.0:
        state = replace(state, bucket_start=current)
    if current > state.bucket_start:
        closed = int((current - state.bucket_start) // size)
        recent = state.recent
        storm_since, storm_alerts = state.storm_since, state.storm_alerts
        hour_peak = state.hour_peak
        for step in range(min(closed, MAX_GAP_BUCKETS)):
            start = state.bucket_start + step * size
            bucket_count = state.count if step == 0 else 0
            hour = hour_of_week(start)
            level = usual(recent, season_of(hour) if seasons is not None else None, settings)
            if storm_since is not None and _calm(bucket_count, level, settings):
                storm_since, storm_alerts, ended = None, 0, True
            recent = recent.updated(bucket_count, settings.alpha)
            hour_peak = max(hour_peak, bucket_count)
            if hour_of_week(start + size) != hour:  # the hour ended with this bucket
                if seasons is not None:
                    changed[hour] = (season_of(hour) or Baseline()).updated(
                        hour_peak, settings.seasonal_alpha
                    )
                hour_peak = 0
        state = RateState(
            bucket_start=current, count=0, recent=recent,
            storm_since=storm_since, storm_alerts=storm_alerts, hour_peak=hour_peak,
        )
    level = usual(
        state.recent, season_of(hour_of_week(current)) if seasons is not None else None, settings
    )
    trigger_at = storm_trigger_at(level, settings)
    total = state.count + count
    storm_since, storm_alerts = state.storm_since, state.storm_alerts
    if storm_since is None and total > trigger_at:
        storm_since, storm_alerts, started = now, total, True
        ended = False  # ended and began again within one observation: still a storm
    elif storm_since is not None:
        storm_alerts += count
    state = replace(
        state, count=total, trigger_at=trigger_at,
        storm_since=storm_since, storm_alerts=storm_alerts,
    )
    return Observed(state=state, seasons=changed, started=started, ended=ended and not started)


def storm_usual_count(state: RateState, seasonal: Baseline | None,
                      settings: StormSettings = StormSettings()) -> int:
    """The usual alerts per bucket, rounded, for the storm's message."""
    return round(usual(state.recent, seasonal, settings).mean)
