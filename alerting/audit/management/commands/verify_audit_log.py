"""Check every tenant's audit chain (or one's): intact, or the first broken entry."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.audit.selectors import audit_chain_verify
from tenants.models import Tenant
from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits 1 if an entry was tampered with."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Slug of one tenant (default: all).")

    def handle(self, *args, tenant=None, **options):
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant {tenant!r}.")
            tenants = [found]
        else:
            tenants = tenant_list()
        broken = []
        for each in tenants:
            with tenant_context(each):
                check = audit_chain_verify()
            if check.intact:
                self.stdout.write(f"{each.slug}: intact ({check.entries} entries)")
            else:
                broken.append(each.slug)
                self.stdout.write(
                    f"{each.slug}: BROKEN at entry {check.broken_id}: {check.reason} "
                    f"({check.entries} entries before it are intact)"
                )
        if broken:
            raise CommandError(f"audit chain broken for: {', '.join(broken)}", returncode=1)
