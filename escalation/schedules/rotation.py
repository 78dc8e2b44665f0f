"""Which member of a layer's rotation is on duty at an instant, and when shifts hand off.

Shift k starts at the instant (escalation/schedules/wallclock.py) of the
wall-clock time `start_date + handoff_time + k * shift_length shift_unit`,
computed as naive wall-clock arithmetic: a daily 09:00 handoff stays at 09:00
local across DST changes, a weekly one on the same weekday. Hourly shifts
count wall-clock hours too: on a fall-back night the hour that repeats
belongs to the shift that started at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from escalation.schedules.spec import UNIT_STEPS, LayerSpec
from escalation.schedules.wallclock import instant_to_wall, wall_to_instant

# An instant later than any a schedule reaches: a shift whose wall-clock start
# overflows the calendar (a hostile start date near year 9999) never starts.
NEVER = datetime.max.replace(tzinfo=UTC)
ZERO = timedelta(0)


class Rotation:
    """A layer's shifts, prepared once for a spec (the zone, the base, the step)."""

    __slots__ = ("base", "layer", "members", "step", "zone")

    def __init__(self, layer: LayerSpec, zone: ZoneInfo) -> None:
        self.layer = layer
        self.zone = zone
        self.members = layer.members
        self.base = datetime.combine(layer.start_date, layer.handoff_time)
        # A step that is not forward (zero length, a unit it does not know)
        # gives no shifts at all; validation names it.
        step = UNIT_STEPS.get(layer.shift_unit, ZERO) * layer.shift_length
        self.step = step if step > ZERO else ZERO

    def shift_start(self, index: int) -> datetime:
        """The instant shift `index` starts (NEVER when it is past the calendar's end)."""
        try:
            return wall_to_instant(self.base + index * self.step, self.zone)
        except OverflowError:
            return NEVER if index >= 0 else datetime.min.replace(tzinfo=UTC)

    def shift_index(self, at: datetime) -> int:
        """The shift under way at `at`: the largest k whose start is not after `at`.

        Negative before the first shift. Zero-length shifts are skipped: when
        shifts k and k+1 start at the same instant, that instant is k+1's.
        """
        if not self.step:
            return -1
        try:
            guess = (instant_to_wall(at, self.zone) - self.base) // self.step
        except OverflowError:
            return -1
        while self.shift_start(guess) > at:
            guess -= 1
        while self.shift_start(guess + 1) <= at:
            guess += 1
        return guess

    def member(self, index: int) -> int | None:
        if index < 0 or not self.members:
            return None
        return self.members[(self.layer.start_position + index) % len(self.members)]

    def on_duty(self, at: datetime) -> int | None:
        """The person whose shift it is at `at` (restrictions aside), or None."""
        if not self.members:
            return None
        return self.member(self.shift_index(at))

    def handoffs(self, start: datetime, end: datetime) -> list[datetime]:
        """The instants in (start, end) at which the person on duty may change."""
        if not self.members or not self.step:
            return []
        index = max(self.shift_index(start), -1) + 1
        found: list[datetime] = []
        while True:
            instant = self.shift_start(index)
            if instant >= end:
                return found
            if instant > start and (not found or found[-1] != instant):
                found.append(instant)
            index += 1
