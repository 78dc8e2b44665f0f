"""An operator backs a tenant up and restores it: same or another Herald, same or new slug."""

from __future__ import annotations

import gzip
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context, tenant_context

from alerting.audit.models import AuditEntry
from alerting.audit.selectors import audit_chain_verify
from alerting.audit.services import audit_record
from receivers.models import Receiver
from tenants.backup.dump import tenant_backup
from tenants.backup.format import BackupSecret
from tenants.models import Domain, Tenant
from tests.factories import ReceiverFactory

PASSPHRASE = "correct horse battery staple"
SECRET = BackupSecret(passphrase=PASSPHRASE)
HOOK_TOKEN = "s3cr3t-hook-token-value"


@pytest.fixture
def backup_of_alpha(alpha, tmp_path, monkeypatch):
    """Alpha with a receiver holding a secret and a few audit entries, backed up to a file."""
    with tenant_context(alpha):
        ReceiverFactory(name="ops-hook", secrets={"url": "https://hooks.example.com/in",
                                                  "header:X-Api-Key": HOOK_TOKEN})
        for n in range(3):
            audit_record(actor="carol", source="admin", action="change receiver",
                         obj_repr=f"ops-hook #{n}")
    path = tmp_path / "alpha.herald-backup"
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    call_command("tenant_backup", tenant="alpha", out=str(path),
                 passphrase_env="BACKUP_PASSPHRASE", stdout=io.StringIO())
    return path


def restore(path, **options):
    out = io.StringIO()
    call_command("tenant_restore", source=str(path), passphrase_env="BACKUP_PASSPHRASE",
                 stdout=out, **options)
    return out.getvalue()


def verify(slug: str) -> str:
    out = io.StringIO()
    call_command("verify_audit_log", tenant=slug, stdout=out)
    return out.getvalue()


def test_the_file_holds_no_secret_in_clear(backup_of_alpha):
    content = gzip.decompress(backup_of_alpha.read_bytes())
    assert HOOK_TOKEN.encode() not in content
    assert b"ops-hook" in content  # configuration is there, as in a database dump


def test_a_restore_under_a_new_slug_brings_back_receivers_secrets_and_a_verified_chain(
    backup_of_alpha, alpha
):
    output = restore(backup_of_alpha, slug="alpha-copy", domain="alpha-copy.localhost")

    assert "Restored tenant alpha-copy" in output
    copy = Tenant.objects.get(slug="alpha-copy")
    assert Domain.objects.get(tenant=copy).domain == "alpha-copy.localhost"
    with tenant_context(copy):
        assert Receiver.objects.get(name="ops-hook").secrets["header:X-Api-Key"] == HOOK_TOKEN
        actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-1] == "tenant_restored"
    assert actions.count("change receiver") == 3
    assert "alpha-copy: intact" in verify("alpha-copy")
    # The source is untouched: its chain, its receiver, its domain.
    assert "alpha: intact" in verify("alpha")
    with tenant_context(alpha):
        assert not AuditEntry.objects.filter(action="tenant_restored").exists()


def test_another_herald_with_other_keys_restores_and_verifies_the_chain_honestly(
    backup_of_alpha, settings
):
    settings.HERALD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.HERALD_AUDIT_KEYS = ["another-herald-audit-key-0123456789abcdef"]

    restore(backup_of_alpha, slug="elsewhere", domain="elsewhere.localhost")

    report = verify("elsewhere")
    assert "elsewhere: intact" in report
    assert "restored from a backup, signed by audit keys not in HERALD_AUDIT_KEYS" in report
    with tenant_context(Tenant.objects.get(slug="elsewhere")):
        assert Receiver.objects.get(name="ops-hook").secrets["header:X-Api-Key"] == HOOK_TOKEN


def test_an_imported_entry_changed_after_the_restore_breaks_the_chain(backup_of_alpha, settings):
    settings.HERALD_AUDIT_KEYS = ["another-herald-audit-key-0123456789abcdef"]
    restore(backup_of_alpha, slug="elsewhere", domain="elsewhere.localhost")
    copy = Tenant.objects.get(slug="elsewhere")
    with schema_context(copy.schema_name):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            cursor.execute("UPDATE audit_auditentry SET actor = 'mallory' "
                           "WHERE action = 'change receiver'")
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
        check = audit_chain_verify()
    assert not check.intact
    assert "an imported entry was changed" in check.reason


def test_a_restore_into_a_slug_in_use_refuses_unless_replace(backup_of_alpha, alpha):
    with pytest.raises(CommandError, match="a tenant 'alpha' exists already"):
        restore(backup_of_alpha)

    with tenant_context(alpha):
        ReceiverFactory(name="added-after-the-backup")
    output = restore(backup_of_alpha, replace=True)

    assert "replacing the previous one" in output
    alpha = Tenant.objects.get(slug="alpha")
    with tenant_context(alpha):
        assert not Receiver.objects.filter(name="added-after-the-backup").exists()
        assert Receiver.objects.filter(name="ops-hook").exists()
    assert "alpha: intact" in verify("alpha")
    # The operators' chain says what was replaced, and by what.
    with schema_context("public"):
        from alerting.audit.heads.models import OperatorAuditEntry

        actions = list(OperatorAuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["replace tenant by restore", "restore tenant"]
    out = io.StringIO()
    call_command("verify_audit_log", operators=True, stdout=out)
    assert "(operators): intact" in out.getvalue()


def test_a_domain_in_use_is_a_clear_error_and_nothing_is_restored(backup_of_alpha):
    schemas_before = set(Tenant.objects.values_list("schema_name", flat=True))

    with pytest.raises(CommandError, match="belongs to tenant alpha: give the restored"):
        restore(backup_of_alpha, slug="alpha-copy")

    assert not Tenant.objects.filter(slug="alpha-copy").exists()
    assert set(Tenant.objects.values_list("schema_name", flat=True)) == schemas_before
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'alpha_copy'")
        assert cursor.fetchone() is None


def _bad(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda raw: raw[: len(raw) // 2], "truncated"),
        (lambda raw: gzip.compress(gzip.decompress(raw).replace(b"ops-hook", b"evil-hok")),
         "MAC does not match"),
        (lambda raw: gzip.compress(gzip.decompress(raw).replace(
            b'"format_version":1', b'"format_version":9')), "made by a newer Herald"),
        (lambda raw: b"not a backup at all", "not a readable backup"),
    ],
    ids=["truncated", "tampered", "newer", "garbage"],
)
def test_a_bad_file_is_a_clear_error_and_nothing_is_restored(
    backup_of_alpha, tmp_path, spoil, message
):
    bad = _bad(tmp_path / "bad", spoil(backup_of_alpha.read_bytes()))

    with pytest.raises(CommandError, match=message):
        restore(bad, slug="alpha-copy", domain="alpha-copy.localhost")

    assert not Tenant.objects.filter(slug="alpha-copy").exists()


def test_a_wrong_passphrase_is_told_apart_from_tampering(backup_of_alpha, monkeypatch):
    monkeypatch.setenv("BACKUP_PASSPHRASE", "not the passphrase it was made with")

    with pytest.raises(CommandError, match="wrong passphrase or key file"):
        restore(backup_of_alpha, slug="alpha-copy", domain="alpha-copy.localhost")


def test_a_key_file_seals_instead_of_a_passphrase(alpha, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    key = tmp_path / "backup.key"
    key.write_bytes(Fernet.generate_key())
    path = tmp_path / "alpha.bak"
    call_command("tenant_backup", tenant="alpha", out=str(path), key_file=str(key),
                 stdout=io.StringIO())

    out = io.StringIO()
    call_command("tenant_restore", source=str(path), key_file=str(key), slug="alpha-copy",
                 domain="alpha-copy.localhost", stdout=out)

    assert Tenant.objects.filter(slug="alpha-copy").exists()
    with pytest.raises(CommandError, match="sealed with a key file, not a passphrase"):
        call_command("tenant_restore", source=str(path), passphrase_env="BACKUP_PASSPHRASE",
                     slug="other", domain="other.localhost", stdout=io.StringIO())


def test_the_backup_streams_a_large_table_in_batches(alpha):
    from receivers.models import Notification  # noqa: F401 - table named below
    from tests.factories import AlertGroupFactory

    with tenant_context(alpha):
        AlertGroupFactory.create_batch(1200)
    out = io.BytesIO()
    summary = tenant_backup(tenant=alpha, out=out, secret=SECRET, scrypt_n=2**10)
    lines = gzip.decompress(out.getvalue()).splitlines()
    batches = [line for line in lines if b'"name":"alerting_alertgroup"' in line
               and line.startswith(b'{"k":"rows"')]
    assert len(batches) == 3  # 500 + 500 + 200 rows, never the whole table at once
    assert summary.rows >= 1200
