"""Writing the audit log: one chained, MACed, append-only entry per event.

Writers call `audit_record` explicitly where the event happens (admin saves,
logins, actions); nothing is recorded by signals. Notification outcomes come
from the delivery path through alerting/audit/outcomes.py, without the
chain's lock. How entries are chained and MACed: alerting/audit/chain.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from alerting.audit.chain import audit_chain_model, chain_extend, chain_lock, chain_locked
from alerting.audit.models import AuditSource, ChainedAuditEntry

REDACTED = "[redacted]"
REDACTED_CHANGED = "[redacted, changed]"


def _jsonable(value: Any) -> Any:
    """The value as it will come back from jsonb, so the hash can be recomputed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _entry(
    *,
    actor: str,
    source: str,
    action: str,
    at=None,
    obj_type: str = "",
    obj_id: str | int = "",
    obj_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> ChainedAuditEntry:
    if source not in AuditSource.values:
        raise ValueError(f"unknown audit source {source!r}")
    return audit_chain_model()(
        at=at or timezone.now(),
        actor=actor[:200],
        source=source,
        ip=(ip or "")[:45],
        action=action[:64],
        object_type=obj_type[:100],
        object_id=str(obj_id)[:64],
        object_repr=obj_repr[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )


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
) -> ChainedAuditEntry:
    """Append one entry to the current schema's chain, MACed with the first audit key.

    In a tenant's schema that is the tenant's chain; in the shared schema (the
    operators' admin on the public site) the operators' chain.

    `actor` is who did it: a member's username, `api:<token slug>`, or for
    an action link the person it was sent to (see the README's audit
    section); `source` one of AuditSource. Concurrent writers are serialised
    by a transaction-scoped advisory lock per schema, so two entries never
    claim the same place in the chain. Called inside the caller's
    transaction, the entry commits (or rolls back) with what it records.
    """
    entry = _entry(
        actor=actor, source=source, action=action, obj_type=obj_type, obj_id=obj_id,
        obj_repr=obj_repr, before=before, after=after, ip=ip,
    )
    with chain_locked():
        (entry,) = chain_extend([entry])
    return entry


def audit_record_many(*, records: list[dict[str, Any]]) -> list[ChainedAuditEntry]:
    """`audit_record` for several entries (each a dict of its arguments) in one go.

    One lock, one read of the chain's head and one insert however many; in
    the caller's transaction, as `audit_record`.
    """
    if not records:
        return []
    entries = [_entry(**record) for record in records]
    with chain_locked():
        return chain_extend(entries)


@dataclass(frozen=True)
class AuditActor:
    """Who did something, as the trail names them: pass it where the action happens.

    `name`: a member's username, an API token's actor (`api:<token slug>`),
    or for an action link or chat button the person it was sent to (their
    username, else the contact it went to); `source`: an AuditSource value.
    """

    name: str
    source: str
    ip: str = ""


def audit_action(
    *,
    by: AuditActor,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> ChainedAuditEntry:
    """`audit_record` for an action on one object by `by` (acknowledge, resolve, silence...)."""
    return audit_record(
        actor=by.name, source=by.source, ip=by.ip, action=action,
        obj_type=obj._meta.label_lower if obj is not None else "",
        obj_id=obj.pk if obj is not None else "",
        obj_repr=str(obj)[:300] if obj is not None else "",
        before=before, after=after,
    )


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


def audit_notification_outcome(*, notification: Any) -> ChainedAuditEntry | None:
    """Record one notification's final outcome at once, chained (a person's test send, say).

    Anything not final yet (pending, sending) is ignored, so the caller need
    not check. The delivery path stages outcomes instead (outcomes.py).
    """
    from alerting.audit.outcomes import _outcome_entry, outcome_of
    from receivers.models import FINAL_STATES

    if notification.state not in FINAL_STATES:
        return None
    entry = _outcome_entry(timezone.now(), outcome_of(notification))
    with transaction.atomic():
        chain_lock()
        (entry,) = chain_extend([entry])
    return entry
