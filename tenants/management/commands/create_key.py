from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.audit.services import audit_record
from tenants.models import Tenant
from tenants.services import api_token_create, ingest_key_create

_CREATE = {"ingest": ingest_key_create, "api": api_token_create}


class Command(BaseCommand):
    help = "Create an ingest key (for Alertmanager) or a read-API token for a tenant."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(_CREATE))
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")

    def handle(self, *args, kind, tenant, name, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        row, key = _CREATE[kind](tenant=found, name=name)
        with tenant_context(found):
            audit_record(
                actor="manage.py", source="command", action=f"create {kind} key",
                obj_type=f"tenants.{type(row).__name__.lower()}", obj_id=row.id,
                obj_repr=f"{row.name} ({row.prefix}…)",
            )
        self.stdout.write(f"Created {kind} key {row.name!r} for {found.slug} (shown once): {key}")
