from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django_tenants.utils import tenant_context

from alerting.audit.services import audit_record
from tenants.models import Tenant
from tenants.services import ingest_key_create, tenant_create


class Command(BaseCommand):
    help = "Create a tenant with its own schema (migrated), domain and first ingest key."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Short name; also the schema name.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True, help="Host name of the tenant's admin.")
        parser.add_argument(
            "--allow-private-targets",
            action="store_true",
            help="Let receivers send to loopback and private networks (the tenant's "
            "allow_private_targets; without it the outbound guard refuses such targets).",
        )
        parser.add_argument(
            "--database", default="default",
            help="The database that holds the tenant's schema: default, or an alias of "
            "HERALD_TENANT_DATABASES (docs/databases.md).",
        )

    def handle(self, *args, slug, name, domain, allow_private_targets, database, **options):
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug {slug!r} exists already.")
        try:
            tenant = tenant_create(slug=slug, name=name, domain=domain, database=database,
                                   allow_private_targets=allow_private_targets)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except IntegrityError as error:  # taken by another creation meanwhile
            raise CommandError(f"The slug {slug!r} or the domain {domain!r} is in use.") from error
        ingest_key, key = ingest_key_create(tenant=tenant, name="default")
        with tenant_context(tenant):
            audit_record(
                actor="manage.py", source="command", action="create tenant",
                obj_type="tenants.tenant", obj_id=tenant.id, obj_repr=tenant.slug,
                after={"slug": slug, "name": name, "domain": domain,
                       "allow_private_targets": allow_private_targets, "database": database,
                       "ingest_key": f"{ingest_key.prefix}…"},
            )
        self.stdout.write(f"Created tenant {tenant.slug} (schema {tenant.schema_name}) at {domain}")
        self.stdout.write(f"Ingest key (shown once): {key}")
