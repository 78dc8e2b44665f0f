"""Counting the proof (pure): what was posted against what the receiver got.

An alert is *lost* when Alertmanager accepted it and the receiver never got
it. A *duplicate* is any delivery of an alert after its first. The bound on
duplicates comes from Herald's two idempotency keys:

- ingest: one notification per receiver per alert state, the state being
  (fingerprint, status, startsAt). Alertmanager's retries, HAProxy's
  re-dispatch and a 200 lost with a web host add no notification, so every
  alert must arrive under exactly ONE Idempotency-Key;
- delivery: a notification is sent again only when the outcome of a send in
  flight was lost (its worker killed or cut off, or PostgreSQL restarted
  before the outcome was recorded), and every resend carries the same
  `Idempotency-Key: <tenant>-<notification id>`. So duplicates are at most
  what the faults that can lose an outcome had in flight: per worker host
  hit, HERALD_TENANT_MAX_CONCURRENT_SENDS runners x HERALD_DELIVERY_BATCH_SIZE
  leased notifications; and one notification repeats at most once per such
  fault.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

# Herald's defaults (alerting/infra/settings_delivery.py), which the cluster keeps.
BATCH_SIZE = 25
RUNNERS_PER_TENANT = 4


@dataclass
class Fault:
    name: str
    at: float  # when it was injected (time.time())
    hosts_losing_outcomes: int  # worker hosts whose sends in flight may lose their outcome
    repaired_at: float | None = None
    window_end: float | None = None  # the next fault, or the end of the flow


@dataclass
class FaultRow:
    name: str
    held_s: float
    alerts: int
    late: int
    max_latency_s: float
    recovered_after_s: float | None  # None: no alert was late


@dataclass
class Counts:
    posted: int
    delivered: int
    lost: int
    lost_seqs: list[str]
    duplicates: int
    duplicate_bound: int
    per_key_max: int
    per_key_bound: int
    alerts_with_several_keys: int
    latency_p50_s: float
    latency_p95_s: float
    faults: list[FaultRow] = field(default_factory=list)

    @property
    def within_bound(self) -> bool:
        return (
            self.alerts_with_several_keys == 0
            and self.duplicates <= self.duplicate_bound
            and self.per_key_max <= self.per_key_bound
        )


def posted_times(posted: list[dict], run: str) -> dict[str, float]:
    return {line["seq"]: line["t"] for line in posted if line["run"] == run}


def arrivals(received: list[dict], run: str) -> dict[str, list[tuple[float, str]]]:
    """seq -> [(arrival time, Idempotency-Key)] of the alert's firing deliveries."""
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for line in received:
        if line["run"] == run and line["status"] == "firing":
            found[line["seq"]].append((line["t"], line["key"]))
    return found


def missing(posted: list[dict], received: list[dict], run: str) -> int:
    got = arrivals(received, run)
    return sum(1 for seq in posted_times(posted, run) if not got.get(seq))


def duplicate_bound(faults: list[Fault]) -> tuple[int, int]:
    """(at most this many duplicates in all, at most this many deliveries of one key)."""
    losing = [fault for fault in faults if fault.hosts_losing_outcomes]
    total = sum(f.hosts_losing_outcomes * RUNNERS_PER_TENANT * BATCH_SIZE for f in losing)
    return total, 1 + len(losing)


def counts(posted: list[dict], received: list[dict], run: str, faults: list[Fault]) -> Counts:
    sent = posted_times(posted, run)
    got = arrivals(received, run)
    first = {seq: min(t for t, _ in got[seq]) for seq in sent if got.get(seq)}
    latencies = sorted(first[seq] - sent[seq] for seq in first)
    per_key: dict[str, int] = defaultdict(int)
    several_keys = 0
    for seq in sent:
        keys = {key for _, key in got.get(seq, [])}
        several_keys += len(keys) > 1
        for _, key in got.get(seq, []):
            per_key[key] += 1
    lost = sorted((seq for seq in sent if seq not in first), key=int)
    total_bound, key_bound = duplicate_bound(faults)
    baseline_p95 = _quantile(latencies, 0.95)
    return Counts(
        posted=len(sent),
        delivered=len(first),
        lost=len(lost),
        lost_seqs=lost[:20],
        duplicates=sum(len(got.get(seq, [])) - 1 for seq in first),
        duplicate_bound=total_bound,
        per_key_max=max(per_key.values(), default=0),
        per_key_bound=key_bound,
        alerts_with_several_keys=several_keys,
        latency_p50_s=_quantile(latencies, 0.5),
        latency_p95_s=baseline_p95,
        faults=[fault_row(f, sent, first, late_after(sent, first, faults)) for f in faults],
    )


def late_after(sent: dict[str, float], first: dict[str, float], faults: list[Fault]) -> float:
    """What counts as late: three times the p95 latency before the first fault, at least 2 s."""
    start = min((f.at for f in faults), default=float("inf"))
    calm = sorted(first[s] - sent[s] for s in first if sent[s] < start - 2)
    return max(2.0, 3 * _quantile(calm, 0.95)) if calm else 2.0


def fault_row(
    fault: Fault, sent: dict[str, float], first: dict[str, float], late: float
) -> FaultRow:
    """Alerts posted from just before the fault until just before the next one (what
    was posted then may be held up by either); when the last late one of them came."""
    end = (fault.window_end or float("inf")) - late
    window = [seq for seq, t in sent.items() if fault.at - late <= t < end]
    latency = {seq: first[seq] - sent[seq] for seq in window if seq in first}
    delayed = [seq for seq in window if latency.get(seq, float("inf")) > late]
    recovered = max((first[seq] for seq in delayed if seq in first), default=None)
    return FaultRow(
        name=fault.name,
        held_s=(fault.repaired_at or fault.at) - fault.at,
        alerts=len(window),
        late=len(delayed),
        max_latency_s=max(latency.values(), default=0.0),
        recovered_after_s=None if recovered is None else recovered - fault.at,
    )


def throughput(posted: list[dict], received: list[dict], run: str) -> tuple[int, float]:
    """(alerts, alerts per second) of a burst: all posted at once, until the last arrived."""
    sent = posted_times(posted, run)
    got = arrivals(received, run)
    if not sent or any(not got.get(seq) for seq in sent):
        return len(sent), 0.0
    took = max(min(t for t, _ in got[seq]) for seq in sent) - min(sent.values())
    return len(sent), len(sent) / took if took > 0 else 0.0


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def fault_table(broker: str, result: Counts) -> list[str]:
    lines = [
        f"| {broker}: fault | held s | alerts in window | late | max latency s "
        "| recovered after s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result.faults:
        recovered = "no alert late" if row.recovered_after_s is None else (
            f"{row.recovered_after_s:.1f}"
        )
        lines.append(
            f"| {row.name} | {row.held_s:.1f} | {row.alerts} | {row.late} | "
            f"{row.max_latency_s:.1f} | {recovered} |"
        )
    return lines


def count_line(broker: str, result: Counts) -> str:
    return (
        f"{broker}: posted {result.posted}, delivered {result.delivered}, LOST {result.lost}"
        f"{' ' + str(result.lost_seqs) if result.lost else ''}, duplicates {result.duplicates} "
        f"(bound {result.duplicate_bound}), most deliveries of one Idempotency-Key "
        f"{result.per_key_max} (bound {result.per_key_bound}), alerts under more than one "
        f"key {result.alerts_with_several_keys} (bound 0); latency p50 "
        f"{result.latency_p50_s:.2f} s, p95 {result.latency_p95_s:.2f} s"
    )
