"""Give tenants a new link signing key; links signed with the old one work for a grace period.

The grace period is HERALD_LINK_KEY_GRACE_SECONDS (default seven days, as
long as a link lives); after it those links are refused, and the next
rotation drops the key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.link_keys import tenant_link_key_rotate
from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "Rotate the link signing keys of every tenant (or of the tenants named)."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Tenants to rotate; all when none.")

    def handle(self, *args, slugs, **options) -> None:
        tenants = [t for t in tenant_list() if not slugs or t.slug in slugs]
        missing = sorted(set(slugs) - {t.slug for t in tenants})
        if missing:
            raise CommandError(f"No such tenant: {', '.join(missing)}")
        for tenant in tenants:
            tenant_link_key_rotate(tenant_id=tenant.id)
            self.stdout.write(f"{tenant.slug}: new link signing key")
        hours = settings.HERALD_LINK_KEY_GRACE_SECONDS / 3600
        self.stdout.write(
            f"{len(tenants)} tenants rotated; links signed with their previous keys "
            f"keep working for {hours:g} hours."
        )
