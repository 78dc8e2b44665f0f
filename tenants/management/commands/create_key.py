from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.audit.services import audit_record
from tenants.models import ApiScope, Tenant
from tenants.services import api_token_create, ingest_key_create


class Command(BaseCommand):
    help = (
        "Create an ingest key (for Alertmanager: it only ingests) or a scoped API token "
        "for a tenant; the secret is printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["api", "ingest"])
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--scope", action="append", choices=ApiScope.values, dest="scopes",
            help="API tokens: what it may do, repeatable (default: read).",
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None,
            help="API tokens: expire after this many days (default: never).",
        )

    def handle(self, *args, kind, tenant, name, scopes, expires_in_days, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        if kind == "ingest":
            if scopes or expires_in_days is not None:
                raise CommandError("Ingest keys only ingest: --scope and --expires-in-days "
                                   "are for API tokens.")
            row, key = ingest_key_create(tenant=found, name=name)
            what, after = "ingest key", {}
        else:
            if expires_in_days is not None and expires_in_days < 1:
                raise CommandError("--expires-in-days must be 1 or more.")
            expires_at = (timezone.now() + timedelta(days=expires_in_days)
                          if expires_in_days is not None else None)
            try:
                row, key = api_token_create(tenant=found, name=name,
                                            scopes=scopes or [ApiScope.READ],
                                            expires_at=expires_at)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
            what = f"API token with scopes {', '.join(row.scopes)}, " + (
                f"expiring {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at
                else "never expiring")
            after = {"scopes": row.scopes,
                     "expires_at": row.expires_at.isoformat() if row.expires_at else None}
        with tenant_context(found):
            audit_record(
                actor="manage.py", source="command", action=f"create {kind} key",
                obj_type=f"tenants.{type(row).__name__.lower()}", obj_id=row.id,
                obj_repr=f"{row.name} ({row.prefix}…)", after=after or None,
            )
        self.stdout.write(f"Created {what} {row.name!r} for {found.slug} (shown once): {key}")
