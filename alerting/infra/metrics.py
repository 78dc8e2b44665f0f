"""Herald's own Prometheus metrics; the names are part of the interface.

Labels are bounded on purpose: tenant slugs, policy names and fixed status
words, never alert names, label values or fingerprints (one series each would
grow without end).

Several gunicorn and Celery processes each count for themselves; with
PROMETHEUS_MULTIPROC_DIR set (`runherald` sets it for all of its children),
prometheus_client keeps every process's values in files there and
`metrics_registry()` adds them up for /metrics.
"""

from __future__ import annotations

import glob
import os
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from celery.signals import worker_process_shutdown
from prometheus_client import REGISTRY, CollectorRegistry, Counter, multiprocess

alerts_received = Counter(
    "alertmanager_alerts",
    "Alerts received from Alertmanager and stored, by tenant and status (firing, resolved).",
    ["tenant", "status"],
)

escalation_events = Counter(
    "alertmanager_escalation_events",
    "Escalation levels run, by tenant, policy and level.",
    ["tenant", "policy", "level"],
)

escalation_gaps = Counter(
    "alertmanager_escalation_gaps",
    "Escalation targets (or people they chose) that found nobody to page, by tenant, policy "
    "and reason (nobody_on_call, empty_team, no_verified_contact, no_carrier, fallback_empty, "
    "...).",
    ["tenant", "policy", "reason"],
)

pages_started = Counter(
    "alertmanager_pages",
    "People paged by escalation levels, by tenant and policy.",
    ["tenant", "policy"],
)

_STATUSES = ("firing", "resolved")


def alerts_received_record(*, tenant: str, alerts: Iterable[Mapping[str, Any]]) -> None:
    """Count a stored batch of alerts; call once the batch is committed."""
    counts = Tally(
        alert.get("status") if alert.get("status") in _STATUSES else "other" for alert in alerts
    )
    for status, count in counts.items():
        alerts_received.labels(tenant=tenant, status=status).inc(count)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _SizedFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's aggregation, without the files a process is creating right now.

    A process opens its file for a metric type on first use, empty, and only
    then gives it its initial size; a scrape in that instant read four bytes
    of nothing and failed whole (struct.error, a 500 for /metrics). Such a file
    holds no value yet, so leaving it out of this scrape loses nothing.
    """

    def collect(self):
        files = [path for path in glob.glob(os.path.join(self._path, "*.db")) if _sized(path)]
        return self.merge(files, accumulate=True)


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) >= 8  # the header: bytes used, and padding
    except FileNotFoundError:  # a dead process's live gauges, removed meanwhile
        return False


def metrics_registry() -> CollectorRegistry:
    """What /metrics shows: every process's values in multiprocess mode, else this one's."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    _SizedFilesCollector(registry)
    return registry


@worker_process_shutdown.connect(weak=False)
def _pool_process_exited(pid: int | None = None, **kwargs: Any) -> None:
    """A Celery prefork child that exits must not leave its live gauges behind
    (gunicorn's workers are handled by its child_exit hook)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid or os.getpid())
