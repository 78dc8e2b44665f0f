"""Notification outcomes in the audit trail, without slowing delivery down.

The delivery path writes each batch's final outcomes as one unchained row
(`PendingOutcome`) in the transaction that records them: no lock, one
INSERT per batch, so concurrent batches never wait for each other. The
sealing step, run by the periodic audit task, takes the chain's lock once,
turns every pending row into one chained entry per notification (dated when
the outcome happened) and deletes the rows it sealed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerting.audit.chain import chain_extend, chain_lock
from alerting.audit.models import AuditEntry, AuditSource, PendingOutcome
from alerting.audit.services import _entry

SEAL_BATCH = 2000


def outcome_of(notification: Any, *, state: str | None = None, **extra: Any) -> dict[str, Any]:
    """What the trail keeps of one notification's final outcome."""
    return {
        "id": notification.id,
        "state": state or notification.state,
        "receiver": notification.receiver_name,
        "channel": notification.channel,
        "status": notification.status,
        "alert_group_id": notification.alert_group_id,
        "attempts": notification.attempts,
        "http_status": notification.last_http_status,
        "error": notification.last_error,
        "digest": notification.is_digest,
        # A person's page: whose page, and the address it went to.
        **({"page_id": notification.page_id, "recipient": notification.recipient_address}
           if getattr(notification, "recipient_address", "") else {}),
        **extra,
    }


def audit_outcomes_stage(*, outcomes: Iterable[dict[str, Any]], now=None) -> None:
    """Write final outcomes (from `outcome_of`) for the next seal; nothing if auditing is off.

    Call it inside the transaction that saves the states, so an outcome is
    in the trail exactly when it happened.
    """
    outcomes = list(outcomes)
    if not outcomes or not settings.HERALD_AUDIT_OUTCOMES:
        return
    PendingOutcome.objects.create(at=now or timezone.now(), outcomes=outcomes)


def _outcome_entry(at, outcome: dict[str, Any]) -> AuditEntry:
    state = outcome["state"]
    details = {key: value for key, value in outcome.items() if key not in {"id", "state"}}
    return _entry(
        at=at,
        actor="system",
        source=AuditSource.SYSTEM,
        action=f"notification_{state}",
        obj_type="receivers.notification",
        obj_id=outcome["id"],
        obj_repr=f"{outcome['status']} → {outcome['receiver']} ({state})",
        after=details,
    )


def audit_outcomes_seal() -> int:
    """Chain the current tenant's pending outcomes; how many entries were written."""
    sealed = 0
    while True:
        with transaction.atomic():
            chain_lock()
            rows = list(PendingOutcome.objects.order_by("id")[:SEAL_BATCH])
            if not rows:
                return sealed
            entries = [
                _outcome_entry(row.at, outcome) for row in rows for outcome in row.outcomes
            ]
            chain_extend(entries)
            PendingOutcome.objects.filter(id__in=[row.id for row in rows]).delete()
        sealed += len(entries)
