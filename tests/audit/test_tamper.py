"""An insider tampers with a tenant's audit table; verify_audit_log says what happened.

Each story: entries are written, the periodic task checkpoints the chain's
head outside the tenant's schema, then the table is changed the way someone
with the database owner's rights could, and the auditor runs the command.
"""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from alerting.audit.chain import GENESIS_HASH, audit_entry_hash
from alerting.audit.checkpoints import audit_seal_and_checkpoint
from alerting.audit.heads.models import AuditCheckpoint
from alerting.audit.keys import key_id
from alerting.audit.models import AuditEntry
from alerting.audit.services import audit_record
from tests.audit.tamper import as_owner


def _record(n: int, *, actor: str = "ana") -> list[AuditEntry]:
    return [
        audit_record(actor=actor, source="admin", action="update", obj_type="receivers.receiver",
                     obj_id=i, obj_repr=f"receiver {i}", after={"n": i})
        for i in range(n)
    ]


def _verify(capsys) -> tuple[bool, str]:
    """Run the command for alpha as an auditor would: (intact?, what it printed)."""
    try:
        call_command("verify_audit_log", tenant="alpha")
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


def _checkpoint(alpha) -> AuditCheckpoint:
    audit_seal_and_checkpoint(tenants=[alpha])
    connection.set_tenant(alpha)
    return AuditCheckpoint.objects.filter(schema_name="alpha").latest("seq")


def test_an_untouched_chain_verifies_with_its_checkpoint(alpha, capsys):
    _record(3)
    _checkpoint(alpha)
    intact, out = _verify(capsys)
    assert intact
    assert "alpha: intact (3 entries; head #3; 1 checkpoints matched)" in out


def test_an_update_with_the_trigger_disabled_is_reported(alpha, capsys):
    entries = _record(4)
    _checkpoint(alpha)
    as_owner("UPDATE audit_auditentry SET actor = 'mallory' WHERE id = %s", params=[entries[1].id])

    intact, out = _verify(capsys)

    assert not intact
    assert f"alpha: BROKEN at entry {entries[1].id}: its content does not match its MAC" in out


def test_a_whole_chain_recomputed_with_an_unkeyed_hash_is_reported(alpha, capsys):
    """The insider rewrites every entry and chains them again with plain SHA-256."""
    _record(3)
    _checkpoint(alpha)
    previous = GENESIS_HASH
    rewritten = []
    for entry in AuditEntry.objects.order_by("id"):
        entry.actor, entry.previous_hash = "mallory", previous
        entry.hash = previous = audit_entry_hash(entry=entry)
        rewritten.append((entry.hash, entry.previous_hash, entry.id))
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditentry SET hash = 'x' || id")  # free the unique hashes
        for values in rewritten:
            cursor.execute(
                "UPDATE audit_auditentry SET actor = 'mallory', hash = %s, previous_hash = %s, "
                "key_id = '', seq = NULL WHERE id = %s", values,
            )
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")

    intact, out = _verify(capsys)

    assert not intact
    assert "alpha: BROKEN: 3 unkeyed entries where the checkpoint of" in out
    assert "recorded 0: the chain was recomputed with a plain hash" in out


def test_keeping_the_key_ids_but_hashing_without_the_key_is_reported(alpha, capsys):
    entries = _record(2)
    as_owner(
        "UPDATE audit_auditentry SET actor = 'mallory', "
        "hash = encode(sha256(convert_to(id::text, 'UTF8')), 'hex')"
    )
    intact, out = _verify(capsys)
    assert not intact
    assert f"BROKEN at entry {entries[0].id}: its content does not match its MAC" in out


def test_deleting_the_newest_entries_is_a_cut_tail(alpha, capsys):
    entries = _record(5)
    _checkpoint(alpha)
    as_owner("DELETE FROM audit_auditentry WHERE id >= %s", params=[entries[3].id])

    intact, out = _verify(capsys)

    assert not intact
    assert "alpha: BROKEN: cut tail: the checkpoint of" in out
    assert "saw the chain at entry #5, the table ends at #3: the newest entries were" in out


def test_a_dropped_table_is_reported(alpha, capsys):
    _record(2)
    _checkpoint(alpha)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE audit_auditentry")

    intact, out = _verify(capsys)

    assert not intact
    assert (
        "alpha: BROKEN: the audit table is missing (dropped); its last checkpoint saw entry #2"
    ) in out


def test_an_entry_signed_with_a_key_we_do_not_hold_is_reported(alpha, capsys, settings):
    settings.HERALD_AUDIT_KEYS = ["the insider's own key"]
    (forged,) = _record(1, actor="mallory")
    settings.HERALD_AUDIT_KEYS = ["the real key"]
    intact, out = _verify(capsys)
    assert not intact
    forger = key_id("the insider's own key")
    assert f"BROKEN at entry {forged.id}: it is signed by key id {forger}, which is not" in out


def test_rotated_keys_keep_verifying_what_they_signed(alpha, capsys, settings):
    settings.HERALD_AUDIT_KEYS = ["old key"]
    old = _record(2)
    settings.HERALD_AUDIT_KEYS = ["new key", "old key"]  # prepend the new one
    new = _record(2)
    assert {e.key_id for e in old} == {key_id("old key")}
    assert {e.key_id for e in new} == {key_id("new key")}
    assert _verify(capsys)[0]

    settings.HERALD_AUDIT_KEYS = ["new key"]  # dropped too early
    intact, out = _verify(capsys)
    assert not intact and "which is not in HERALD_AUDIT_KEYS" in out


def _legacy(n: int) -> list[AuditEntry]:
    """Entries as the release before keyed MACs wrote them: plain SHA-256, no key id."""
    from django.utils import timezone

    previous, written = GENESIS_HASH, []
    for i in range(n):
        entry = AuditEntry(at=timezone.now(), actor="old", source="admin", action="update",
                           object_id=str(i), after={"n": i}, previous_hash=previous)
        entry.hash = previous = audit_entry_hash(entry=entry)
        entry.save(force_insert=True)
        written.append(entry)
    return written


def test_existing_sha256_entries_verify_as_a_legacy_segment(alpha, capsys):
    legacy = _legacy(3)
    (first_keyed,) = _record(1)
    assert (first_keyed.seq, first_keyed.previous_hash) == (4, legacy[-1].hash)
    intact, out = _verify(capsys)
    assert intact
    assert "4 entries; of which the first 3 are a legacy segment chained with plain SHA-256" in out


def test_a_changed_legacy_entry_is_still_found(alpha, capsys):
    legacy = _legacy(3)
    _record(1)
    as_owner("UPDATE audit_auditentry SET actor = 'mallory' WHERE id = %s", params=[legacy[1].id])
    intact, out = _verify(capsys)
    assert not intact
    assert f"BROKEN at entry {legacy[1].id}: its content does not match its hash" in out


def test_the_checkpoint_is_in_the_shared_schema_and_the_log_stream(alpha, caplog):
    entries = _record(2)
    with caplog.at_level(logging.INFO, logger="herald.audit"):
        checkpoint = _checkpoint(alpha)
    assert (checkpoint.seq, checkpoint.mac, checkpoint.entry_id) == (2, entries[-1].hash,
                                                                     entries[-1].id)
    (line,) = [r for r in caplog.records if r.getMessage().startswith("audit checkpoint")]
    assert line.getMessage().startswith(
        f"audit checkpoint tenant=alpha seq=2 mac={entries[-1].hash}"
    )
    assert (line.audit_tenant, line.audit_seq) == ("alpha", 2)

    caplog.clear()
    audit_seal_and_checkpoint(tenants=[alpha])  # nothing new: no new checkpoint
    assert AuditCheckpoint.objects.filter(schema_name="alpha").count() == 1
    assert not [r for r in caplog.records if r.getMessage().startswith("audit checkpoint")]


def test_the_mac_is_keyed(alpha, settings):
    """The same entry under two keys: two MACs, and neither is the plain hash."""
    settings.HERALD_AUDIT_KEYS = ["k1"]
    (one,) = _record(1)
    plain = hashlib.sha256(json.dumps({"x": 1}).encode()).hexdigest()
    assert one.hash != audit_entry_hash(entry=one) and one.hash != plain
    assert one.key_id == key_id("k1")


@pytest.mark.parametrize("slug", ["nope"])
def test_an_unknown_tenant_is_an_error(alpha, slug):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit_log", tenant=slug)
