"""Check every audit chain (each tenant's and the operators'), or one: intact, or what is
wrong with it."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from alerting.audit.checkpoints import audit_chains, operators_chain
from alerting.audit.selectors import ChainCheck, audit_chain_verify
from tenants.models import Tenant
from tenants.selectors import tenant_list


def _summary(check: ChainCheck) -> str:
    parts = [f"{check.entries} entries"]
    if check.legacy_entries:
        parts.append(
            f"of which the first {check.legacy_entries} are a legacy segment chained with "
            "plain SHA-256 before the chain was keyed: intact as a chain, but not proof "
            "against someone who could write the table"
        )
    if check.imported_entries:
        parts.append(
            f"{check.imported_entries} restored from a backup, signed by audit keys not in "
            "HERALD_AUDIT_KEYS and bound by the restore entry that follows them"
        )
    if check.head_seq is not None:
        parts.append(f"head #{check.head_seq}")
    parts.append(f"{check.checkpoints} checkpoints matched" if check.checkpoints
                 else "no checkpoint yet")
    if check.pending_outcomes:
        parts.append(f"{check.pending_outcomes} delivery batches awaiting their seal")
    return "; ".join(parts)


class Command(BaseCommand):
    help = (
        "Verify the audit log: each entry's MAC (HERALD_AUDIT_KEYS), the chain's order and "
        "its checkpoints in the shared schema; exits 1 if a chain was tampered with."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant", help="Slug of one tenant (default: all, and the operators' chain)."
        )
        parser.add_argument(
            "--operators", action="store_true",
            help="Only the operators' chain (the operators' admin, in the shared schema).",
        )

    def handle(self, *args, tenant=None, operators=False, **options):
        if operators:
            tenants = [operators_chain()]
        elif tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant {tenant!r}.")
            tenants = [found]
        else:
            tenants = audit_chains(tenant_list())
        broken = []
        for each in tenants:
            with schema_context(each.schema_name):
                check = audit_chain_verify()
            if check.intact:
                self.stdout.write(f"{each.slug}: intact ({_summary(check)})")
                continue
            broken.append(each.slug)
            where = f" at entry {check.broken_id}" if check.broken_id else ""
            self.stdout.write(
                f"{each.slug}: BROKEN{where}: {check.reason} "
                f"({check.entries} entries before it verify)"
            )
        if broken:
            raise CommandError(f"audit chain broken for: {', '.join(broken)}", returncode=1)
