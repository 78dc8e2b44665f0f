"""What the template limits cost on the hot path: one message's render, by how it is isolated.

Renders a Slack message (title and body) for a 2-alert and a 100-alert group:
with Herald's defaults (in the calling thread, not metered), with the same
templates as a tenant's overrides under the meter only
(HERALD_TEMPLATE_ISOLATION=thread), and in a renderer process (=process, the
default). Rounds
alternate the three so the machine's drift hits them alike; medians in ms.

    make bench-templates [BENCH_ARGS="--rounds 7 --renders 200"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from receivers.message_rendering import message_render  # noqa: E402
from receivers.template_samples import many_alerts_message, sample_message  # noqa: E402
from receivers.template_sandbox import TEMPLATES_DIR  # noqa: E402

# A tenant's override of both parts: Herald's own defaults, word for word, so
# the rows differ only in how the same templates are run.
OVERRIDES = {
    ("en", part): (TEMPLATES_DIR / "slack" / "en" / f"{part}.j2").read_text()
    for part in ("title", "body")
}


def _time(renders: int, message, overrides) -> float:
    started = time.perf_counter()
    for _ in range(renders):
        rendered = message_render(channel="slack", message=message, overrides=overrides)
        assert not rendered.problems, rendered.problems
    return (time.perf_counter() - started) / renders * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    groups = {
        "2 alerts": sample_message(),
        "100 alerts": replace(many_alerts_message(100), receiver_kind="slack"),
    }
    modes = [("defaults", "thread", None), ("overrides, meter only", "thread", OVERRIDES),
             ("overrides, renderer process", "process", OVERRIDES)]
    print(f"{'group':<12}{'templates':<30}{'ms per message (median)':>24}{'x defaults':>12}")
    for group, message in groups.items():
        figures: dict[str, list[float]] = {name: [] for name, _, _ in modes}
        for mode in modes:  # warm up: compile caches, the renderer process
            settings.HERALD_TEMPLATE_ISOLATION = mode[1]
            _time(5, message, mode[2])
        for _ in range(args.rounds):
            for name, isolation, overrides in modes:
                settings.HERALD_TEMPLATE_ISOLATION = isolation
                figures[name].append(_time(args.renders, message, overrides))
        base = statistics.median(figures["defaults"])
        for name, _, _ in modes:
            median = statistics.median(figures[name])
            print(f"{group:<12}{name:<30}{median:>24.3f}{median / base:>12.2f}")


if __name__ == "__main__":
    main()
