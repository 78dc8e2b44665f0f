"""Who is on call: `on_call_at` for a 50-person, 5-layer schedule with 200 overrides.

The schedule (Europe/Berlin), highest layer first: hourly night shifts
restricted to 22:00-06:00, a daily layer restricted to business hours (so
most questions go down two or three layers), 12-hour shifts, a weekly
rotation and a two-week backstop, 10 people each; 200 overrides (replace,
add, remove) spread over a year, a temporary schedule. Asks for the answer
at random instants of that year: median and p95 per call, against the 1 ms
target, and the one-time preparation of a spec (what a fresh snapshot pays
on its first question).

    make bench-oncall, or: .venv/bin/python bench/oncall.py --calls 20000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalation.schedules import (
    LayerSpec,
    OverrideSpec,
    RestrictionSpec,
    ScheduleSpec,
    TemporaryShiftSpec,
    TemporarySpec,
    on_call_at,
    shifts_between,
)

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
# A benchmark's workload, repeatable by its seed; nothing secret is drawn.
Seeded = random.Random
TARGET_MS = 1.0


def schedule(rng: random.Random, people: int = 50, overrides: int = 200) -> ScheduleSpec:
    ids = list(range(1, people + 1))
    business = tuple(RestrictionSpec(day, wall_time(9), wall_time(17)) for day in range(5))
    nights = (RestrictionSpec(None, wall_time(22), wall_time(6)),)
    shapes = [  # (name, length, unit, handoff, restrictions)
        ("nights", 1, "hours", wall_time(22), nights),
        ("secondary", 1, "days", wall_time(9), business),
        ("follow the sun", 12, "hours", wall_time(8), ()),
        ("primary", 1, "weeks", wall_time(9), ()),
        ("backstop", 2, "weeks", wall_time(10), ()),
    ]
    layers = tuple(
        LayerSpec(
            layer_id=index + 1, name=name, priority=len(shapes) - index,
            start_date=date(2025, 12, 29), handoff_time=handoff, shift_length=length,
            shift_unit=unit, start_position=index % 10,
            members=tuple(ids[index * 10:(index + 1) * 10]), restrictions=restrictions,
        )
        for index, (name, length, unit, handoff, restrictions) in enumerate(shapes)
    )
    made = []
    for _ in range(overrides):
        start = YEAR_START + timedelta(hours=rng.randrange(365 * 24))
        kind = rng.choice(["replace", "replace", "add", "remove"])
        replaces = rng.choice([None, rng.choice(ids)]) if kind == "replace" else None
        made.append(OverrideSpec(kind, rng.choice(ids), replaces, start,
                                 start + timedelta(hours=rng.choice([4, 12, 24, 48, 72]))))
    holiday = YEAR_START + timedelta(days=358)
    temporary = TemporarySpec(holiday, holiday + timedelta(days=2), tuple(
        TemporaryShiftSpec(ids[day], holiday + timedelta(days=day),
                           holiday + timedelta(days=day + 1))
        for day in range(2)
    ))
    return ScheduleSpec(schedule_id=1, version=1, time_zone="Europe/Berlin", layers=layers,
                        overrides=tuple(made), temporaries=(temporary,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = Seeded(args.seed)
    instants = [YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))
                for _ in range(args.calls)]

    preparations = []
    for _ in range(20):
        fresh = schedule(Seeded(args.seed))
        started = time.perf_counter()
        on_call_at(fresh, instants[0])
        preparations.append((time.perf_counter() - started) * 1000)

    spec = schedule(Seeded(args.seed))
    for at in instants[:200]:  # warm up
        on_call_at(spec, at)
    timings = []
    nobody = 0
    for at in instants:
        started = time.perf_counter()
        answer = on_call_at(spec, at)
        timings.append((time.perf_counter() - started) * 1000)
        nobody += not answer.people
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]

    started = time.perf_counter()
    segments = shifts_between(spec, YEAR_START, YEAR_START + timedelta(weeks=12))
    twelve_weeks = (time.perf_counter() - started) * 1000

    print("on_call_at, 50 people, 5 layers, 200 overrides, 1 temporary (Europe/Berlin)")
    print(f"{'calls':<34}{len(timings):>12}")
    print(f"{'median, ms':<34}{median:>12.4f}")
    print(f"{'p95, ms':<34}{p95:>12.4f}")
    print(f"{'first question of a fresh spec, ms':<34}{statistics.median(preparations):>12.3f}")
    print(f"{'shifts_between over 12 weeks, ms':<34}{twelve_weeks:>12.1f}"
          f"  ({len(segments)} segments)")
    print(f"{'instants with nobody on call':<34}{nobody:>12}")
    verdict = "ok" if median < TARGET_MS else "OVER"
    print(f"target: median under {TARGET_MS} ms: {verdict}")


if __name__ == "__main__":
    main()
