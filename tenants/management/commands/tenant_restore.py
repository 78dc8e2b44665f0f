"""Restore a tenant backup, under its slug or another, into this Herald (docs/backup.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tenants.backup.format import BackupError
from tenants.backup.load import tenant_restore
from tenants.backup.secret_options import secret_arguments, secret_from_options


class Command(BaseCommand):
    help = ("Restore a tenant from a tenant_backup file; all or nothing. Refuses a slug "
            "in use unless --replace.")

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="source", required=True, help="The backup file.")
        parser.add_argument("--slug", help="Restore under this slug (default: the backup's).")
        parser.add_argument("--domain", help="Primary domain of the restored tenant "
                            "(default: the backup's domains, which must be free).")
        parser.add_argument("--replace", action="store_true",
                            help="Replace the tenant of that slug (its schema is dropped).")
        parser.add_argument("--database", default="default",
                            help="The database to build the tenant's schema on: default, or "
                            "an alias of HERALD_TENANT_DATABASES (docs/databases.md).")
        secret_arguments(parser)

    def handle(self, *args, source, slug=None, domain=None, replace=False, key_file=None,
               passphrase_env=None, database="default", **options):
        secret = secret_from_options(key_file=key_file, passphrase_env=passphrase_env,
                                     confirm=False)
        try:
            summary = tenant_restore(path=source, secret=secret, slug=slug, replace=replace,
                                     domain=domain, database=database)
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None
        except BackupError as exc:
            raise CommandError(f"Nothing restored: {exc}") from None
        self.stdout.write(
            f"Restored tenant {summary.slug} (schema {summary.schema_name}"
            f"{', replacing the previous one' if summary.replaced else ''}): "
            f"{summary.rows} rows, {summary.audit_entries} audit entries bound by a restore "
            f"entry, {summary.secrets} secrets re-encrypted"
        )
        if summary.users_created:
            self.stdout.write(f"Users created: {', '.join(summary.users_created)}")
        if summary.keys_skipped:
            self.stdout.write(
                "Keys in use by another tenant, not restored (create new ones with "
                f"create_key): {', '.join(summary.keys_skipped)}"
            )
