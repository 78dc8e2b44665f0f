"""What one tick (or one ETA task) reads once for all the steps and pages it runs.

Schedule snapshots are loaded once per tick and kept by id, so 10,000
chains on one schedule cost one load; the receivers that carry each
contact kind's pages, and what paging needs of each person, are read once as
well. A tick is short (well under a second): an edit that lands during it
is seen by the next tick. A tick's context also hands the notifications
its steps committed to the workers in batches, once, at its end (the
sweep covers a tick that dies before).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from alerting.audit.services import audit_record_many
from alerting.selectors import alert_group_firing_snapshot, alert_groups_firing_snapshot
from escalation.schedules import ScheduleSpec, on_call_at, schedule_snapshot, shifts_between
from receivers.carriers import carrier_choose
from receivers.delivery import notifications_enqueue
from receivers.models import Receiver
from receivers.transports.registry import TRANSPORTS

# How far ahead a gap's end is looked for, to say when someone is on call again.
GAP_LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class OnCallNow:
    people: tuple[int, ...]
    version: int | None
    source: str  # "temporary" | "override" | "layer" | "nobody" | "missing"


@dataclass
class PagingContext:
    """Per-tick caches; make one per tick (or per task), never keep one across ticks."""

    # A tick's: notifications are enqueued by `flush`, not one transaction at a time.
    defer_enqueue: bool = False
    _specs: dict[int, ScheduleSpec | None] = field(default_factory=dict)
    # Contact kind -> the enabled receivers that carry it, read once.
    _carriers: dict[str, list[Receiver]] | None = None
    # Person id -> what escalation.paging.targets read of them (None: no such person).
    people: dict[int, Any] = field(default_factory=dict)
    _owed: list[int] = field(default_factory=list)
    # What the steps of the current transaction record, written at its end at once.
    events: list[Any] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)

    # Alert group id -> its firing alerts, read for a batch of steps at once.
    _alerts: dict[int, list[dict]] = field(default_factory=dict)

    def firing_alerts_prefetch(self, alert_group_ids: set[int]) -> None:
        self._alerts = alert_groups_firing_snapshot(alert_group_ids=alert_group_ids)

    def firing_alerts(self, alert_group_id: int) -> list[dict]:
        """The group's firing alerts: prefetched for the batch (once), else read now."""
        if alert_group_id in self._alerts:
            return self._alerts.pop(alert_group_id)
        return alert_group_firing_snapshot(alert_group_id=alert_group_id)

    def records_write(self) -> None:
        """The events and audit entries of the transaction's steps (call inside it)."""
        from escalation.models import EscalationEvent

        events, self.events = self.events, []
        audits, self.audits = self.audits, []
        EscalationEvent.objects.bulk_create(events)
        audit_record_many(records=audits)

    def records_drop(self) -> None:
        """The transaction rolled back: what it would have recorded did not happen."""
        self.events, self.audits = [], []

    def notifications_owed(self, ids: list[int]) -> None:
        """Hand notifications to the workers once the current transaction commits."""
        if not ids:
            return
        if self.defer_enqueue:
            transaction.on_commit(lambda: self._owed.extend(ids))
        else:
            transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))

    def flush(self) -> None:
        """Enqueue what the tick's committed steps owe, in batches."""
        owed, self._owed = self._owed, []
        if owed:
            notifications_enqueue(notification_ids=owed)

    def spec(self, schedule_id: int, at: datetime) -> ScheduleSpec | None:
        """The schedule's snapshot, loaded on first use; None when it was deleted.

        Overrides and temporary schedules that ended before `at` (the first
        use's instant) are left out: a tick asks about now and later only.
        """
        if schedule_id not in self._specs:
            try:
                self._specs[schedule_id] = schedule_snapshot(schedule_id=schedule_id, since=at)
            except ObjectDoesNotExist:
                self._specs[schedule_id] = None
        return self._specs[schedule_id]

    def on_call(self, *, schedule_id: int, layer_id: int | None, at: datetime) -> OnCallNow:
        spec = self.spec(schedule_id, at)
        if spec is None:
            return OnCallNow((), None, "missing")
        if layer_id is not None and all(layer.layer_id != layer_id for layer in spec.layers):
            return OnCallNow((), spec.version, "missing")
        found = on_call_at(spec, at, layer_id=layer_id)
        return OnCallNow(tuple(found.people), spec.version, found.source)

    def next_on_call(
        self, *, schedule_id: int, layer_id: int | None, at: datetime
    ) -> datetime | None:
        """When someone is on call again after `at` (within GAP_LOOKAHEAD), for a gap's record."""
        spec = self.spec(schedule_id, at)
        if spec is None:
            return None
        for shift in shifts_between(spec, at, at + GAP_LOOKAHEAD, layer_id=layer_id):
            if shift.people and shift.start > at:
                return shift.start
        return None

    def carrier_for(self, *, contact_kind: str, address: str) -> Receiver | None:
        """The enabled receiver that carries a page of `contact_kind` to `address`
        (receivers.carriers: by country prefix, else the kind's default)."""
        if self._carriers is None:
            self._carriers = defaultdict(list)
            for receiver in Receiver.objects.filter(carries_pages=True, enabled=True).order_by(
                "id"
            ).only("id", "name", "kind", "enabled", "config"):
                transport = TRANSPORTS.get(receiver.kind)
                for kind in transport.contact_kinds if transport else ():
                    self._carriers[kind].append(receiver)
        return carrier_choose(self._carriers.get(contact_kind, ()), address=address)
