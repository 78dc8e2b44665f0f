"""A tenant restored into another Herald (other Fernet and audit keys) takes alerts and
delivers them through the real worker, with its secrets; its source is untouched."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from receivers.models import Notification, NotificationState, Receiver
from tenants.models import Tenant
from tenants.services import ingest_key_create
from tests.conftest import wait_for
from tests.factories import ReceiverFactory, WebhookPayloadFactory
from tests.ingest import post, public_client

pytestmark = pytest.mark.e2e

PASSPHRASE = "correct horse battery staple"
HOOK_TOKEN = "s3cr3t-hook-token-value"


@pytest.fixture
def restored_tenants():
    """Restored tenants are dropped (rows and schema) after the test."""
    yield
    for tenant in Tenant.objects.filter(slug__in=["alpha-elsewhere"]):
        tenant.delete(force_drop=True)


def test_a_restored_tenant_delivers_with_its_secrets_through_the_real_worker(
    committed_tenants, celery_worker_thread, httpserver, settings, tmp_path, monkeypatch,
    restored_tenants,
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/hook", method="POST",
                              headers={"X-Api-Key": HOOK_TOKEN}).respond_with_data("ok")
    with tenant_context(alpha):
        ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook"),
                                                  "header:X-Api-Key": HOOK_TOKEN})
        source_entries = AuditEntry.objects.count()
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    path = tmp_path / "alpha.herald-backup"
    call_command("tenant_backup", tenant="alpha", out=str(path),
                 passphrase_env="BACKUP_PASSPHRASE", stdout=io.StringIO())

    # Another Herald: keys of its own for secrets and for the audit chain.
    settings.HERALD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.HERALD_AUDIT_KEYS = ["the-other-heralds-audit-key-0123456789"]
    call_command("tenant_restore", source=str(path), passphrase_env="BACKUP_PASSPHRASE",
                 slug="alpha-elsewhere", domain="alpha-elsewhere.localhost",
                 stdout=io.StringIO())
    restored = Tenant.objects.get(slug="alpha-elsewhere")
    key = ingest_key_create(tenant=restored, name="after-restore")[1]

    assert post(public_client(), WebhookPayloadFactory(), key).status_code == 200

    def delivered():
        with tenant_context(restored):
            return Notification.objects.filter(state=NotificationState.DELIVERED).exists()

    wait_for(delivered, timeout=30)
    assert len(httpserver.log) == 1  # the secret header matched: the secret survived
    report = io.StringIO()
    call_command("verify_audit_log", tenant="alpha-elsewhere", stdout=report)
    assert "alpha-elsewhere: intact" in report.getvalue()
    with tenant_context(alpha):  # the source: no new entry, no notification, same receiver
        assert AuditEntry.objects.count() == source_entries
        assert not Notification.objects.exists()
        assert Receiver.objects.filter(name="ops-hook").count() == 1
