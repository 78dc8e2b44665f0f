"""How entries are chained and MACed, for every chain alike.

Each tenant's schema holds its chain (`AuditEntry`); the shared schema holds the
operators' one (`OperatorAuditEntry`, the operators' admin on the public site).
The chain of a schema is chosen by the connection's schema, so writing,
sealing, checkpointing and verifying are one code path for both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from django.db import connection, connections, router, transaction
from django_tenants.utils import get_public_schema_name

from alerting.audit.keys import mac, signing_key
from alerting.audit.models import AuditEntry, ChainedAuditEntry

GENESIS_HASH = "0" * 64


def audit_chain_model() -> type[ChainedAuditEntry]:
    """The chain of the connection's schema: the operators' one in the shared schema."""
    if connection.schema_name == get_public_schema_name():
        from alerting.audit.heads.models import OperatorAuditEntry

        return OperatorAuditEntry
    return AuditEntry


def _content(entry: ChainedAuditEntry) -> dict[str, Any]:
    return {
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


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def audit_entry_hash(*, entry: ChainedAuditEntry) -> str:
    """Plain SHA-256 over the entry and the previous hash: the legacy, unkeyed chain."""
    return hashlib.sha256(_canonical(_content(entry))).hexdigest()


def audit_entry_mac(*, entry: ChainedAuditEntry, key: bytes) -> str:
    """HMAC-SHA256 over the entry, its sequence number, signing key id and previous MAC."""
    content = {**_content(entry), "seq": entry.seq, "key_id": entry.key_id}
    return mac(key, _canonical(content))


def chain_lock() -> None:
    """Serialise the writers of this schema's chain until the transaction ends."""
    _lock(connection)


@contextmanager
def chain_locked() -> Iterator[None]:
    """A transaction on the chain's own database, holding its writers' lock.

    The same as `transaction.atomic()` and `chain_lock()`, but where the
    connection is bound to another database than the shared schema's
    (tenants/databases.py), the operators' chain is written, and locked, on
    the shared one.
    """
    alias = router.db_for_write(audit_chain_model())
    with transaction.atomic(using=alias):
        _lock(connections[alias])
        yield


def _lock(on) -> None:
    with on.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"herald.audit.{on.schema_name}"],
        )


def chain_extend(entries: list[ChainedAuditEntry]) -> list[ChainedAuditEntry]:
    """Chain and insert unsaved entries (of this schema's chain model) after the head;
    the caller holds the chain's lock."""
    model = audit_chain_model()
    head = model.objects.order_by("-id").values("hash", "seq").first()
    if head is None:
        previous, seq = GENESIS_HASH, 0
    elif head["seq"] is None:
        # The first keyed entry after the legacy segment: its number says how
        # long that segment is, and its MAC covers the segment's last hash.
        previous, seq = head["hash"], model.objects.count()
    else:
        previous, seq = head["hash"], head["seq"]
    key_id, key = signing_key()
    for entry in entries:
        seq += 1
        entry.seq, entry.key_id, entry.previous_hash = seq, key_id, previous
        entry.hash = previous = audit_entry_mac(entry=entry, key=key)
    return model.objects.bulk_create(entries)
