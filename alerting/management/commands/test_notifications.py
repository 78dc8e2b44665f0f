"""Render a sample alert for a receiver and, unless --dry-run, send it."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.config.cli import tenant_by_slug
from alerting.sample_send import receiver_sample_send
from receivers.models import Receiver


class Command(BaseCommand):
    help = "Send (or with --dry-run, only render) a sample alert to one receiver of a tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--receiver", required=True, help="The receiver's name.")
        parser.add_argument("--dry-run", action="store_true", help="Render only; send nothing.")

    def handle(self, *args, tenant, receiver, dry_run, **options):
        found = tenant_by_slug(tenant)
        with tenant_context(found):
            target = Receiver.objects.filter(name=receiver).first()
            if target is None:
                raise CommandError(f"tenant {tenant} has no receiver {receiver!r}")
            outcome = receiver_sample_send(receiver=target, tenant=found, dry_run=dry_run)
        for part, text in outcome.parts.items():
            self.stdout.write(f"--- {part} ---\n{text}")
        if outcome.error and not outcome.parts:
            raise CommandError(f"cannot render for {receiver}: {outcome.error}")
        if dry_run:
            self.stdout.write(f"dry run: nothing sent to {receiver} ({target.kind})")
        elif outcome.sent:
            status = f" (HTTP {outcome.http_status})" if outcome.http_status else ""
            self.stdout.write(f"sent to {receiver} ({target.kind}){status}")
        else:
            kind = "failed for good" if outcome.permanent else "failed, would be retried"
            status = f" HTTP {outcome.http_status}:" if outcome.http_status else ""
            raise CommandError(f"sending to {receiver} {kind}:{status} {outcome.error}")
