"""Re-encrypt every stored secret with the first key of HERALD_ENCRYPTION_KEYS.

That is every tenant's link signing keys (shared schema) and every
receiver's secrets (each tenant's schema). Values still under the old
scheme (before issue 16: PBKDF2 of DJANGO_SECRET_KEY with the salts now in
HERALD_LEGACY_ENCRYPTION_SALTS) migrate too.

Rotation: prepend a new key to HERALD_ENCRYPTION_KEYS (all processes), run
this command, then drop the old key once it reports nothing unreadable.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.encryption_services import encrypted_rows_reencrypt
from receivers.services import receiver_secrets_rotate
from tenants.models import Tenant
from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (receivers, link signing keys) with the newest key."

    def handle(self, *args, **options) -> None:
        links = encrypted_rows_reencrypt(model=Tenant, name_field="slug")
        unreadable = [f"{slug} (link signing keys)" for slug in links.unreadable]
        self.stdout.write(f"link signing keys of {links.rotated} tenants re-encrypted")
        rotated, migrated = 0, links.migrated
        tenants = tenant_list()
        for tenant in tenants:
            with tenant_context(tenant):
                result = receiver_secrets_rotate()
            rotated += result.rotated
            migrated += result.migrated
            unreadable += [f"{tenant.slug}/{name}" for name in result.unreadable]
            self.stdout.write(f"{tenant.slug}: {result.rotated} re-encrypted")
        self.stdout.write(
            f"{rotated} receivers re-encrypted in {len(tenants)} tenants, "
            f"{len(unreadable)} unreadable."
        )
        if migrated:
            self.stdout.write(f"{migrated} of them were under the old scheme and are migrated.")
        if unreadable:
            raise CommandError(
                "No configured key decrypts these secrets (left as they were): "
                + ", ".join(unreadable)
            )
