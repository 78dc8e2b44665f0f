"""The audit log: chained, append-only in the database, verifiable."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from alerting.audit.chain import GENESIS_HASH
from alerting.audit.models import AuditEntry
from alerting.audit.selectors import audit_chain_verify
from alerting.audit.services import audit_record, audit_snapshot
from tests.factories import ReceiverFactory


def _record(n: int = 3) -> list[AuditEntry]:
    return [
        audit_record(
            actor="ana", source="admin", action="update", obj_type="receivers.receiver",
            obj_id=i, obj_repr=f"r{i}", before={"n": i}, after={"n": i + 1}, ip="10.0.0.1",
        )
        for i in range(n)
    ]


def test_entries_chain_to_each_other(alpha):
    first, second, third = _record()
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert audit_chain_verify().intact


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET actor = 'mallory'",
        "DELETE FROM audit_auditentry",
        "TRUNCATE audit_auditentry",
    ],
)
def test_database_refuses_changes(alpha, statement):
    _record(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEntry.objects.filter(actor="ana").count() == 1


def test_orm_update_and_delete_are_refused_too(alpha):
    (entry,) = _record(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor="mallory")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()


def _tamper(sql: str, params=()) -> None:
    """What someone with the table owner's rights could do: switch the trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")


def test_verify_finds_a_changed_entry(alpha, capsys):
    entries = _record(4)
    _tamper("UPDATE audit_auditentry SET actor = 'mallory' WHERE id = %s", [entries[2].id])
    check = audit_chain_verify()
    assert check.broken_id == entries[2].id
    assert "changed" in check.reason
    with pytest.raises(CommandError):
        call_command("verify_audit_log", tenant="alpha")
    out = capsys.readouterr().out
    assert f"alpha: BROKEN at entry {entries[2].id}" in out


def test_verify_finds_a_removed_entry(alpha):
    entries = _record(4)
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].id])
    check = audit_chain_verify()
    assert check.broken_id == entries[2].id
    assert "removed" in check.reason


def test_verify_command_reports_intact(alpha, capsys):
    _record(2)
    call_command("verify_audit_log", tenant="alpha")
    assert "alpha: intact" in capsys.readouterr().out
    call_command("verify_audit_log")  # every tenant
    out = capsys.readouterr().out
    assert "alpha: intact" in out and "beta: intact" in out


def test_unknown_tenant_is_an_error(alpha):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit_log", tenant="nope")


def test_snapshot_redacts_secrets_and_marks_changes(alpha):
    receiver = ReceiverFactory(secrets={"url": "https://hooks.example/s3cr3t", "token": "t0k"})
    plain = dict(receiver.secrets)
    receiver.secrets = {**plain, "token": "n3w"}
    snapshot = audit_snapshot(obj=receiver, secret_fields=("secrets",),
                              secrets_before={"secrets": plain})
    assert snapshot["secrets"] == {"token": "[redacted, changed]", "url": "[redacted]"}
    assert "s3cr3t" not in str(snapshot) and "n3w" not in str(snapshot)


def test_concurrent_writers_keep_one_chain(committed_tenants):
    tenant = committed_tenants["alpha"]
    errors = []

    def write() -> None:
        try:
            connection.set_tenant(tenant)
            for _ in range(10):
                audit_record(actor="t", source="system", action="ping")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    connection.set_tenant(tenant)
    assert AuditEntry.objects.filter(action="ping").count() == 40
    assert audit_chain_verify().intact


def test_notification_outcomes_are_recorded_only_when_final(alpha):
    from alerting.audit.services import audit_notification_outcome
    from tests.factories import NotificationFactory

    pending = NotificationFactory()
    assert audit_notification_outcome(notification=pending) is None
    failed = NotificationFactory(state="failed", last_error="HTTP 500", last_http_status=500)
    entry = audit_notification_outcome(notification=failed)
    assert (entry.action, entry.actor, entry.source) == ("notification_failed", "system", "system")
    assert entry.after["error"] == "HTTP 500" and entry.after["receiver"] == failed.receiver_name
