"""Write one tenant's backup: configuration, history, audit chain; secrets sealed to a
passphrase or key file, never in clear (docs/backup.md)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backup.dump import tenant_backup
from tenants.backup.format import BackupError
from tenants.backup.secret_options import secret_arguments, secret_from_options
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Back up one tenant (its schema and its shared rows) into one file."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant.")
        parser.add_argument("--out", required=True, help="File to write (not overwritten).")
        secret_arguments(parser)

    def handle(self, *args, tenant, out, key_file=None, passphrase_env=None, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        secret = secret_from_options(key_file=key_file, passphrase_env=passphrase_env,
                                     confirm=True)
        path = Path(out)
        if path.exists():
            raise CommandError(f"{path} exists already: choose another --out")
        partial = path.with_name(path.name + ".partial")
        try:
            # Written aside and renamed: a failed backup never leaves a file that looks whole.
            with open(partial, "xb") as stream:
                summary = tenant_backup(tenant=found, out=stream, secret=secret)
            if path.exists():
                raise CommandError(f"{path} exists already")
            os.replace(partial, path)
        except FileExistsError:
            raise CommandError(f"{partial} exists already (another backup running?)") from None
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(
            f"Backed up tenant {found.slug} to {path}: {summary.tables} tables, "
            f"{summary.rows} rows ({summary.audit_entries} audit entries), "
            f"{summary.secrets} secrets sealed"
        )
