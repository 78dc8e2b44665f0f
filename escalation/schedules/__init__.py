"""The on-call schedule engine: who is on call at an instant, as a pure function of a spec.

Pure (no Django, no I/O): spec.py (the values), wallclock.py (the DST rule),
rotation.py, restrictions.py, oncall.py (precedence), shifts.py, coverage.py,
validation.py. The database side lives beside them: snapshot.py
(`schedule_snapshot`, `schedule_on_call_now`, also importable from here,
loaded on first use so that the pure engine imports without Django) and
services.py (overrides, `schedule_changed`, `schedule_full_clean`).
docs/oncall-schedules.md says what the rules are.
"""

from escalation.schedules.coverage import coverage_gaps, layer_shares
from escalation.schedules.oncall import on_call_at
from escalation.schedules.shifts import MAX_RANGE, RangeTooLong, shifts_between
from escalation.schedules.spec import (
    LayerSpec,
    OnCall,
    OverrideSpec,
    RestrictionSpec,
    ScheduleSpec,
    Shift,
    TemporaryShiftSpec,
    TemporarySpec,
)
from escalation.schedules.wallclock import instant_to_wall, wall_to_instant
from escalation.schedules.zones import UnknownZone, zone_named

_DATABASE_SIDE = ("schedule_on_call_now", "schedule_snapshot")


def __getattr__(name: str):
    # The selectors need Django's models; import them only when asked for.
    if name in _DATABASE_SIDE:
        from escalation.schedules import snapshot

        return getattr(snapshot, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_RANGE",
    "LayerSpec",
    "OnCall",
    "OverrideSpec",
    "RangeTooLong",
    "RestrictionSpec",
    "ScheduleSpec",
    "Shift",
    "TemporaryShiftSpec",
    "TemporarySpec",
    "UnknownZone",
    "coverage_gaps",
    "instant_to_wall",
    "layer_shares",
    "on_call_at",
    "shifts_between",
    "wall_to_instant",
    "zone_named",
]
