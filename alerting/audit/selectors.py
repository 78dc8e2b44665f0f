"""Reading the audit log: checking a chain against its keys and checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from alerting.audit.chain import (
    GENESIS_HASH,
    audit_chain_model,
    audit_entry_hash,
    audit_entry_mac,
)
from alerting.audit.heads.models import AuditCheckpoint
from alerting.audit.imported import DIGEST_START, imported_digest_step, restore_vouchers
from alerting.audit.keys import audit_keys
from alerting.audit.models import PendingOutcome


@dataclass
class ChainCheck:
    entries: int = 0
    legacy_entries: int = 0
    # Restored from a backup, signed by keys this Herald does not hold and bound
    # by a later restore entry (alerting/audit/imported.py).
    imported_entries: int = 0
    head_seq: int | None = None
    checkpoints: int = 0
    pending_outcomes: int = 0
    broken_id: int | None = None
    reason: str = ""
    missing: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.reason


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{connection.schema_name}".{name}'])
        return cursor.fetchone()[0] is not None


def _when(checkpoint: AuditCheckpoint) -> str:
    return f"{checkpoint.checked_at:%Y-%m-%d %H:%M:%S} UTC"


class _Broken(Exception):
    def __init__(self, entry_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.entry_id, self.reason = entry_id, reason


def _walk(check: ChainCheck, checkpoints, last: AuditCheckpoint | None) -> None:
    """Walk the chain in order, checkpoints alongside; raise _Broken at the first fault."""
    keys = audit_keys()
    previous, expected_seq, keyed = GENESIS_HASH, None, False
    vouchers = restore_vouchers(model=audit_chain_model(), keys=keys)
    digest, vouched_keys = DIGEST_START, {
        key for after in vouchers.values() for key in after.get("imported_key_ids", [])
    }
    last_voucher = max(vouchers, default=0)
    pending_checkpoints = iter(checkpoints)
    checkpoint = next(pending_checkpoints, None)
    for entry in audit_chain_model().objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_hash != previous:
            raise _Broken(entry.id, "its previous hash is not the hash of the entry before it "
                          "(an entry was removed or reordered)")
        if not entry.key_id:
            if keyed:
                raise _Broken(entry.id, "an unkeyed (plain SHA-256) entry after keyed ones: "
                              "the chain was rewritten without the audit key")
            if audit_entry_hash(entry=entry) != entry.hash:
                raise _Broken(entry.id, "its content does not match its hash "
                              "(a legacy entry was changed)")
            check.legacy_entries += 1
        else:
            if not keyed:
                keyed, expected_seq = True, check.legacy_entries + 1
            key = keys.get(entry.key_id)
            if key is None and entry.key_id in vouched_keys and entry.id < last_voucher:
                check.imported_entries += 1
            elif key is None:
                raise _Broken(entry.id, f"it is signed by key id {entry.key_id}, which is not "
                              "in HERALD_AUDIT_KEYS (rewritten with another key, or the "
                              "key was dropped)")
            if entry.seq != expected_seq:
                raise _Broken(entry.id, f"its sequence number is {entry.seq} where "
                              f"{expected_seq} was due (entries were removed or reordered)")
            if key is not None and audit_entry_mac(entry=entry, key=key) != entry.hash:
                raise _Broken(entry.id, "its content does not match its MAC (the entry was "
                              "changed, or the chain recomputed without the audit key)")
            if checkpoint is not None and checkpoint.seq < entry.seq:
                raise _Broken(entry.id, f"the checkpoint of {_when(checkpoint)} names entry "
                              f"#{checkpoint.seq}, which the chain skips")
            if checkpoint is not None and checkpoint.seq == entry.seq:
                if checkpoint.mac != entry.hash:
                    raise _Broken(entry.id, f"entry #{entry.seq} does not carry the MAC "
                                  f"checkpointed at {_when(checkpoint)} "
                                  "(the chain was rewritten)")
                checkpoint = next(pending_checkpoints, None)
            check.head_seq = entry.seq
            expected_seq += 1
        if entry.id in vouchers:
            recorded = vouchers[entry.id]
            if (recorded.get("imported_digest") != digest
                    or recorded.get("imported_entries") != check.entries):
                raise _Broken(entry.id, f"the {check.entries} entries before this restore entry "
                              "are not the ones it recorded (an imported entry was changed, "
                              "added or removed after the restore)")
        digest = imported_digest_step(digest=digest, entry=entry)
        previous = entry.hash
        check.entries += 1
    if checkpoint is not None and last is not None:
        if check.legacy_entries > last.legacy_entries:
            raise _Broken(None, f"{check.legacy_entries} unkeyed entries where the checkpoint "
                          f"of {_when(last)} recorded "
                          f"{last.legacy_entries}: the chain was recomputed with a plain hash")
        raise _Broken(None, f"cut tail: the checkpoint of {_when(last)} "
                      f"saw the chain at entry #{last.seq}, the table ends at "
                      f"#{check.head_seq or 0}: the newest entries were deleted")


def audit_chain_verify() -> ChainCheck:
    """Check the current schema's chain (a tenant's, or the operators' in the shared
    schema): hashes, MACs, sequence and checkpoints."""
    check = ChainCheck()
    checkpoints = AuditCheckpoint.objects.filter(schema_name=connection.schema_name)
    last = checkpoints.order_by("-seq").first()
    check.checkpoints = checkpoints.count()
    if not _table_exists(audit_chain_model()._meta.db_table):
        check.missing = True
        check.reason = "the audit table is missing (dropped)"
        if last is not None:
            check.reason += f"; its last checkpoint saw entry #{last.seq}"
        return check
    try:
        # Streamed beside the entries: a long-lived chain has many checkpoints.
        _walk(check, checkpoints.order_by("seq").iterator(chunk_size=2000), last)
    except _Broken as broken:
        check.broken_id, check.reason = broken.entry_id, broken.reason
    if _table_exists("audit_pendingoutcome"):
        check.pending_outcomes = PendingOutcome.objects.count()
    return check
