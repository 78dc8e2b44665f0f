"""Apply a configuration file to a tenant: prints the diff, audited, idempotent."""

import os

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.config.apply import ConfigApplyError, config_apply
from alerting.config.cli import file_read, problems_write, tenant_by_slug
from alerting.config.export import config_current
from alerting.config.export_oncall import member_usernames
from alerting.config.loading import config_load
from alerting.config.validation import LEVELS, config_validate, has_errors


class Command(BaseCommand):
    help = "Apply a configuration file to a tenant (receivers, people, schedules, routes, ...)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--dry-run", action="store_true", help="Print the diff only.")
        parser.add_argument(
            "--level", choices=LEVELS, default="standard",
            help="Validation that must pass before anything is applied.",
        )
        parser.add_argument("--actor", default="", help="Who deploys, for the audit log.")

    def handle(self, *args, file, tenant, dry_run, level, actor, **options):
        loaded = config_load(file_read(file))
        found = tenant_by_slug(tenant)
        with tenant_context(found):
            problems = config_validate(
                loaded=loaded, level=level, env=os.environ,
                allow_private=found.allow_private_targets, known=config_current(),
                members=member_usernames(),
            )
            if problems:
                problems_write(problems, filename=file, out=self.stderr)
            if has_errors(problems):
                raise CommandError(f"{file} is not valid at level {level}; nothing applied")
            try:
                changes = config_apply(
                    document=loaded.document, env=os.environ, dry_run=dry_run,
                    actor=actor or f"deploy_receivers:{os.environ.get('USER', 'unknown')}",
                )
            except ConfigApplyError as exc:
                raise CommandError(f"{exc}; nothing applied") from None
        for change in changes:
            self.stdout.write(change.format())
        counts = {
            action: sum(1 for change in changes if change.action == action)
            for action in ("created", "changed", "removed")
        }
        summary = ", ".join(f"{count} {action}" for action, count in counts.items())
        if not changes:
            summary = "no changes"
        self.stdout.write(f"{summary}{' (dry run: nothing applied)' if dry_run else ''}")
