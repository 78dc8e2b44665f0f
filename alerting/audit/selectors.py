"""Reading the audit log: checking its chain."""

from __future__ import annotations

from dataclasses import dataclass

from alerting.audit.models import AuditEntry
from alerting.audit.services import GENESIS_HASH, audit_entry_hash


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def audit_chain_verify() -> ChainCheck:
    """Walk the current tenant's chain in order; stop at the first broken entry."""
    previous = GENESIS_HASH
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_hash != previous:
            return ChainCheck(
                entries=count, broken_id=entry.id,
                reason="its previous hash is not the hash of the entry before it "
                "(an entry was removed or reordered)",
            )
        if audit_entry_hash(entry=entry) != entry.hash:
            return ChainCheck(
                entries=count, broken_id=entry.id,
                reason="its content does not match its hash (the entry was changed)",
            )
        previous = entry.hash
        count += 1
    return ChainCheck(entries=count)
