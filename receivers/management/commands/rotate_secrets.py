"""Re-encrypt every receiver's secrets, in every tenant, with the newest key.

Rotation: prepend a new key to HERALD_ENCRYPTION_KEYS (all processes), run
this command, then drop the old key once it reports nothing unreadable.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from receivers.services import receiver_secrets_rotate
from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "Re-encrypt every receiver of every tenant with the newest encryption key."

    def handle(self, *args, **options) -> None:
        rotated = 0
        unreadable: list[str] = []
        tenants = tenant_list()
        for tenant in tenants:
            with tenant_context(tenant):
                result = receiver_secrets_rotate()
            rotated += result.rotated
            unreadable += [f"{tenant.slug}/{name}" for name in result.unreadable]
            self.stdout.write(f"{tenant.slug}: {result.rotated} re-encrypted")
        self.stdout.write(
            f"{rotated} receivers re-encrypted in {len(tenants)} tenants, "
            f"{len(unreadable)} unreadable."
        )
        if unreadable:
            raise CommandError(
                "No configured key decrypts these receivers' secrets (left as they were): "
                + ", ".join(unreadable)
            )
