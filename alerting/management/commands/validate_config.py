"""Check a configuration file at a level; each problem with its place in the file."""

import os
from argparse import ArgumentTypeError
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.config.cli import file_read, problems_write, tenant_by_slug
from alerting.config.export import config_current
from alerting.config.export_oncall import member_usernames
from alerting.config.loading import config_load
from alerting.config.validation import LEVELS, config_validate, has_errors


class Command(BaseCommand):
    help = "Validate a Herald configuration file (basic, standard, strict or paranoid)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--level", choices=LEVELS, default="standard")
        parser.add_argument(
            "--allow-private", action="store_true",
            help="Private-network targets are allowed (as for tenants with allow_private_targets).",
        )
        parser.add_argument(
            "--tenant",
            help="Check references and private targets against this tenant. Without it (nor "
            "--allow-private), private and loopback targets are warnings: only a tenant says "
            "whether they are allowed, and deploy_receivers checks them against it.",
        )

        parser.add_argument(
            "--coverage-from", type=_instant, default=None, metavar="ISO-DATETIME",
            help="Report schedules' coverage gaps and unbalanced rotations in the 12 weeks "
            "from this instant (default: now), e.g. 2026-03-02T09:00:00+01:00.",
        )

    def handle(self, *args, file, level, allow_private, tenant, coverage_from=None, **options):
        loaded = config_load(file_read(file))
        known = members = None
        # None: no tenant to say whether private targets are allowed (warnings).
        allowed: bool | None = True if allow_private else None
        if tenant:
            found = tenant_by_slug(tenant)
            allowed = allow_private or found.allow_private_targets
            with tenant_context(found):
                known = config_current()
                members = member_usernames()
        problems = config_validate(
            loaded=loaded, level=level, env=os.environ, allow_private=allowed, known=known,
            members=members, coverage_from=coverage_from,
        )
        problems_write(problems, filename=file, out=self.stdout)
        if has_errors(problems):
            raise CommandError(f"{file} is not valid at level {level}")
        self.stdout.write(f"{file} is valid at level {level}")


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not an ISO date and time") from None
    if instant.tzinfo is None:
        raise ArgumentTypeError(f"{text!r} needs its UTC offset (e.g. +00:00 or Z)")
    return instant
