"""Writing the audit log: one chained, append-only entry per event.

Writers call `audit_record` explicitly where the event happens (admin saves,
logins, actions, notification outcomes); nothing is recorded by signals.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from alerting.audit.models import AuditEntry, AuditSource

GENESIS_HASH = "0" * 64
REDACTED = "[redacted]"
REDACTED_CHANGED = "[redacted, changed]"


def _jsonable(value: Any) -> Any:
    """The value as it will come back from jsonb, so the hash can be recomputed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_entry_hash(*, entry: AuditEntry) -> str:
    """SHA-256 over the entry's content and the previous entry's hash."""
    content = {
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor,
        "source": entry.source,
        "ip": entry.ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "previous_hash": entry.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_record(
    *,
    actor: str,
    source: str,
    action: str,
    obj_type: str = "",
    obj_id: str | int = "",
    obj_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    """Append one entry to the current tenant's chain.

    Concurrent writers are serialised by a transaction-scoped advisory lock
    per schema, so two entries never claim the same previous hash.
    """
    if source not in AuditSource.values:
        raise ValueError(f"unknown audit source {source!r}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"herald.audit.{connection.schema_name}"],
            )
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEntry(
            at=timezone.now(),
            actor=actor[:200],
            source=source,
            ip=ip[:45],
            action=action[:64],
            object_type=obj_type[:100],
            object_id=str(obj_id)[:64],
            object_repr=obj_repr[:300],
            before=_jsonable(before),
            after=_jsonable(after),
            previous_hash=last or GENESIS_HASH,
        )
        entry.hash = audit_entry_hash(entry=entry)
        entry.save(force_insert=True)
    return entry


def audit_snapshot(
    *,
    obj: models.Model,
    secret_fields: tuple[str, ...] = (),
    secrets_before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The object's fields as JSON, with secret values replaced by a marker.

    A secret field holding a dict keeps its key names; with `secrets_before`
    (the plain values before the change, never stored) a changed value is
    marked as such, so auditors see that a secret was replaced, never what.
    """
    data: dict[str, Any] = {
        field.attname: field.value_from_object(obj) for field in obj._meta.concrete_fields
    }
    if obj.pk:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(related.pk for related in field.value_from_object(obj))
    for name in secret_fields:
        value = data.get(name)
        old = (secrets_before or {}).get(name)
        if isinstance(value, dict):
            old = old if isinstance(old, dict) else {}
            data[name] = {
                key: REDACTED_CHANGED if secrets_before is not None and old.get(key) != item
                else REDACTED
                for key, item in sorted(value.items())
                if item
            }
        elif value:
            changed = secrets_before is not None and old != value
            data[name] = REDACTED_CHANGED if changed else REDACTED
    return _jsonable(data)


def audit_notification_outcome(*, notification: Any) -> AuditEntry | None:
    """Record a notification that reached a final state; call it where the state is saved.

    Anything not final yet (pending, sending) is ignored, so the caller need
    not check.
    """
    from receivers.models import FINAL_STATES

    if notification.state not in FINAL_STATES:
        return None
    return audit_record(
        actor="system",
        source=AuditSource.SYSTEM,
        action=f"notification_{notification.state}",
        obj_type="receivers.notification",
        obj_id=notification.pk,
        obj_repr=str(notification)[:300],
        after={
            "receiver": notification.receiver_name,
            "channel": notification.channel,
            "status": notification.status,
            "alert_group_id": notification.alert_group_id,
            "attempts": notification.attempts,
            "http_status": notification.last_http_status,
            "error": notification.last_error,
        },
    )
