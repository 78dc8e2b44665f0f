"""Flapping (pure): an alert that changes state too often in a window.

An alert flaps when it changed state (firing <-> resolved, or fired anew)
more than `threshold` times within the last `window` seconds. Hysteresis
keeps the mark from blinking itself: once flapping, the alert calms down
only when its changes in the window fall to `threshold // 2` or fewer
(`calm_threshold`). A route may hold the notifications of its flapping
alerts and send one summary per window instead (alerting.noise).

Only the timestamps of the last changes are kept, at most `KEPT_CHANGES`
(enough to count past any threshold allowed), so an alert that flips all
day long costs a bounded list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Defaults of a route (alerting.models.Route), documented in docs/noise-control.md.
DEFAULT_THRESHOLD = 6
DEFAULT_WINDOW_SECONDS = 30 * 60
# Bounds the config file and the admin accept.
MAX_THRESHOLD = 100
# Changes the ingest keeps per alert whatever its route's threshold (it
# appends in its upsert, before routing): a route counts the last threshold + 1.
KEPT_CHANGES = MAX_THRESHOLD + 1
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class FlapSettings:
    threshold: int = DEFAULT_THRESHOLD
    window_seconds: int = DEFAULT_WINDOW_SECONDS
    hold: bool = False

    @property
    def calm_threshold(self) -> int:
        return self.threshold // 2

    @property
    def max_kept(self) -> int:
        return self.threshold + 1


@dataclass(frozen=True)
class FlapState:
    """An alert's recent state changes (epoch seconds, oldest first) and its mark."""

    changes: tuple[float, ...] = ()
    flapping: bool = False


def changes_in_window(changes: Sequence[float], *, now: float, window_seconds: int) -> int:
    return sum(1 for at in changes if now - window_seconds < at <= now)


def flap_evaluate(state: FlapState, *, now: float, settings: FlapSettings) -> FlapState:
    """The mark as of `now`, without a new change (a calm alert calms down in time)."""
    recent = tuple(at for at in state.changes if now - settings.window_seconds < at <= now)
    count = len(recent)
    # hysteresis: a flapping alert calms down only well below the threshold that marked it
    limit = settings.calm_threshold if state.flapping else settings.threshold
    flapping = count > limit
    return FlapState(changes=recent[-settings.max_kept:], flapping=flapping)


def flap_observe(state: FlapState, *, at: float, settings: FlapSettings) -> FlapState:
    """The alert changed state at `at`: keep it and decide the mark."""
    changes = (*state.changes, at)[-settings.max_kept:]
    return flap_evaluate(FlapState(changes=changes, flapping=state.flapping), now=at,
                         settings=settings)


def flap_series(
    times: Sequence[float], *, settings: FlapSettings, checks: Sequence[float] = ()
) -> list[tuple[float, bool]]:
    """The mark after each change and each check (sorted together): for tests and docs."""
    state = FlapState()
    marks: list[tuple[float, bool]] = []
    events = sorted([(t, True) for t in times] + [(t, False) for t in checks])
    for at, is_change in events:
        state = (flap_observe(state, at=at, settings=settings) if is_change
                 else flap_evaluate(state, now=at, settings=settings))
        marks.append((at, state.flapping))
    return marks
