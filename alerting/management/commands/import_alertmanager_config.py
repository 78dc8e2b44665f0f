"""Import an alertmanager.yml's receivers and routes into a tenant, and say how to cut over."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.config.alertmanager import AlertmanagerConfigError, alertmanager_import
from alerting.config.apply import ConfigApplyError, config_apply
from alerting.config.cli import file_read, tenant_by_slug
from alerting.config.export import config_current
from alerting.config.schema import route_entries
from alerting.config.validation import document_targets_check, has_errors


class Command(BaseCommand):
    help = "Turn an alertmanager.yml's receivers and route tree into Herald receivers and routes."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--dry-run", action="store_true", help="Print what would change.")

    def handle(self, *args, file, tenant, dry_run, **options):
        try:
            result = alertmanager_import(text=file_read(file), herald_url=settings.HERALD_BASE_URL)
        except AlertmanagerConfigError as exc:
            raise CommandError(f"{file}: {exc}") from None
        # Added to what the tenant has: nothing of its own is removed.
        imported = {entry.spec.name for entry in route_entries(result.document.routes)}
        top_level = len(result.document.routes or [])
        found = tenant_by_slug(tenant)
        with tenant_context(found):
            # Refused before anything is stored, each problem named by receiver
            # and setting (saving would refuse them too, less readably).
            problems = document_targets_check(
                document=result.document, env={}, allow_private=found.allow_private_targets
            )
            for problem in problems:
                name = result.document.receivers[problem.path[1]].name
                setting = ".".join(str(part) for part in problem.path[2:])
                self.stderr.write(f"{problem.severity}: receiver {name!r}, {setting}: "
                                  f"{problem.message}")
            if has_errors(problems):
                raise CommandError(f"{file}: unsafe receiver targets; nothing imported")
            others = [
                entry.spec.name for entry in route_entries(config_current().routes)
                if entry.spec.name not in imported
            ]
            try:
                changes = config_apply(
                    document=result.document, env={}, actor="import_alertmanager_config",
                    prune=False, dry_run=dry_run,
                )
            except ConfigApplyError as exc:
                raise CommandError(f"{exc}; nothing imported") from None
        for change in changes:
            self.stdout.write(change.format())
        summary = f"{len(changes)} change(s)" if changes else "no changes"
        self.stdout.write(f"{summary}{' (dry run: nothing applied)' if dry_run else ''}")
        if others:
            result.notes.append(
                f"the tenant's own routes ({', '.join(others)}) were kept: check their order "
                f"against the imported top-level ones (positions 0 to {top_level - 1})"
            )
        if result.notes:
            self.stdout.write("\nNot imported, or not the same in Herald:")
            for note in result.notes:
                self.stdout.write(f"  - {note}")
        self.stdout.write(
            "\nTo make this Alertmanager send to Herald instead, replace its route and "
            "receivers with:\n\n" + result.snippet
        )
