"""Chains restored from a tenant backup: entries signed by another Herald's audit keys.

A restore (tenants/backup/load.py) puts the backed-up chain back verbatim:
each entry keeps its sequence number, key id and MAC, made by the keys of
the Herald that wrote it. This Herald cannot check those MACs unless its
HERALD_AUDIT_KEYS include those keys (a restore into the same Herald, or an
operator who adds the old keys to the list to verify with). So the restore
then appends one entry of its own, action `tenant_restored`, MACed with this
Herald's first key, that records how many entries it found and a SHA-256
digest running over every one of them (content, sequence, key id, MAC).

`verify_audit_log` accepts an entry signed by a key it does not hold only
when such a restore entry, which does verify here, comes later and names the
key; at the restore entry it recomputes the digest. So after the restore,
nobody can change, drop or add an imported entry unseen; what the imported
MACs prove about the time before the backup is for the source's keys (and its
checkpoints, which the restore copies) to show. The report says which
entries are imported, never passing them off as signed here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from alerting.audit.chain import _canonical, _content, audit_entry_mac
from alerting.audit.models import ChainedAuditEntry

RESTORE_ACTION = "tenant_restored"
DIGEST_START = hashlib.sha256(b"herald-audit-imported").hexdigest()


def imported_digest_step(*, digest: str, entry: ChainedAuditEntry) -> str:
    """The running digest after one more entry (in id order)."""
    content = {**_content(entry), "seq": entry.seq, "key_id": entry.key_id, "hash": entry.hash}
    return hashlib.sha256(digest.encode() + _canonical(content)).hexdigest()


def restore_vouchers(*, model: type[ChainedAuditEntry], keys: dict[str, bytes]) -> dict[int, Any]:
    """Restore entries of this chain that verify with this Herald's keys: id -> what they
    recorded (`imported_entries`, `imported_digest`, `imported_key_ids`)."""
    found = {}
    for entry in model.objects.filter(action=RESTORE_ACTION).order_by("id"):
        key = keys.get(entry.key_id)
        after = entry.after if isinstance(entry.after, dict) else {}
        if key is None or audit_entry_mac(entry=entry, key=key) != entry.hash:
            continue  # not signed here: an imported entry like any other
        if "imported_digest" in after:
            found[entry.id] = after
    return found
