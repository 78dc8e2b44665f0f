"""Print a tenant's configuration as a file `deploy_receivers` accepts (no secret values)."""

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from alerting.config.cli import tenant_by_slug
from alerting.config.envrefs import env_references
from alerting.config.export import config_current, config_dump


class Command(BaseCommand):
    help = "Export a tenant's configuration as YAML; secrets become ${ENV_VAR} references."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)

    def handle(self, *args, tenant, **options):
        with tenant_context(tenant_by_slug(tenant)):
            document = config_current()
        variables = sorted(
            {
                name
                for receiver in document.receivers or []
                for value in receiver.secrets.values()
                for name in env_references(value)
            }
            | {
                name
                for person in document.people or []
                for method in person.contact_methods
                for name in env_references(method.address)
            }
        )
        header = f"Herald configuration of tenant {tenant}."
        if variables:
            header += "\nSecrets (and addresses given as references) are read from these "
            header += "environment variables when deployed:\n  "
            header += "\n  ".join(variables)
        self.stdout.write(config_dump(document, header=header), ending="")
