"""What a file's schedules will do in the next 12 weeks: their coverage gaps and the
rotations whose shares are unbalanced (a mixin of validation's checks; pure).

Warnings at the standard level, errors from strict on. Both are computed by
the schedule engine (escalation.schedules.coverage_gaps and layer_shares)
over the file's own schedule, from `coverage_from` (now, unless told).

Unbalanced: over the 12 weeks, one member of a rotation is on call more than
1.5 times as long as another (a member with no time at all counts) and by
more than one shift. The shift's allowance is there because 12 weeks rarely
hold whole rounds of a rotation: with seven people taking weekly shifts, five
get two weeks and two get one, which is fair in the long run. What is left is
unfair by construction: a person listed twice, or restrictions that always
fall on the same people's shifts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerting.config.loading import Problem
from alerting.config.schedule_engine import engine_spec
from alerting.config.schema import ConfigDocument
from alerting.config.schema_oncall import ScheduleSpec
from escalation.schedules import coverage_gaps, layer_shares

HORIZON = timedelta(weeks=12)
UNBALANCED_RATIO = 1.5
GAPS_LISTED = 10  # per schedule; the rest are summed up in one more problem


def _hours(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:.0f}h" if hours == int(hours) else f"{hours:.1f}h"


def _when(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def schedule_gaps(schedule: ScheduleSpec, start: datetime) -> list[tuple[datetime, datetime]]:
    spec, _ = engine_spec(schedule)
    return coverage_gaps(spec, start, start + HORIZON)


def unbalanced_layers(
    schedule: ScheduleSpec, start: datetime
) -> list[tuple[int, dict[str, timedelta]]]:
    """(layer index, each member's time on call) for each unbalanced rotation."""
    spec, usernames = engine_spec(schedule)
    found = []
    for index, layer in enumerate(spec.layers):
        if len(set(layer.members)) < 2:
            continue
        shares = layer_shares(spec, layer.layer_id, start, start + HORIZON)
        most, least = max(shares.values()), min(shares.values())
        if most > least * UNBALANCED_RATIO and most - least > layer.step:
            found.append((index, {usernames[person]: share for person, share in shares.items()}))
    return found


class CoverageChecks:
    """Needs `document`, `at` and `coverage_from` from validation's checks."""

    document: ConfigDocument
    coverage_from: datetime

    def coverage(self, *, severity: str, skip: set[int]) -> list[Problem]:
        """Schedules in `skip` (those with errors of their own) are not run."""
        problems = []
        start = self.coverage_from
        for index, schedule in enumerate(self.document.schedules or []):
            if index in skip:
                continue
            zone = ZoneInfo(schedule.time_zone)
            gaps = schedule_gaps(schedule, start)
            for gap_start, gap_end in gaps[:GAPS_LISTED]:
                problems.append(self.at(
                    ("schedules", index),
                    f"coverage gap: nobody on call in {schedule.name!r} from "
                    f"{_when(gap_start, zone)} to {_when(gap_end, zone)} "
                    f"({_hours(gap_end - gap_start)})", severity,
                ))
            if len(gaps) > GAPS_LISTED:
                rest = gaps[GAPS_LISTED:]
                total = sum((end - begin for begin, end in rest), timedelta(0))
                problems.append(self.at(
                    ("schedules", index),
                    f"coverage gap: {len(rest)} more in {schedule.name!r} in the next 12 weeks "
                    f"({_hours(total)} in all), the last from {_when(rest[-1][0], zone)} to "
                    f"{_when(rest[-1][1], zone)}", severity,
                ))
            for layer_index, shares in unbalanced_layers(schedule, start):
                problems.append(self._unbalanced(index, schedule, layer_index, shares, severity))
        return problems

    def _unbalanced(
        self, index: int, schedule: ScheduleSpec, layer_index: int,
        shares: dict[str, timedelta], severity: str,
    ) -> Problem:
        ordered = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
        (most_name, most), (least_name, least) = ordered[0], ordered[-1]
        ratio = f"{most / least:.1f} times as long" if least else f"{least_name} has none"
        each = ", ".join(f"{name} {_hours(share)}" for name, share in ordered)
        layer = schedule.layers[layer_index]
        return self.at(
            ("schedules", index, "layers", layer_index),
            f"unbalanced rotation {layer.name!r} over the 12 weeks from "
            f"{_when(self.coverage_from, ZoneInfo(schedule.time_zone))}: {each}; {most_name} "
            f"is on call {_hours(most - least)} more than {least_name} ({ratio})", severity,
        )
