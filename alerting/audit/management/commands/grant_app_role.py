"""Grant the application's database role what it needs and nothing more (run as the owner).

With two roles (README, audit section), migrations run as the owner and the
application connects as a role that may read and write rows but owns no
table: it can neither switch the audit log's append-only trigger off nor
truncate it. Run this after `migrate_schemas` and after creating a tenant;
the default privileges it sets cover tables the owner creates later too.
With tenants on several databases, run it once per database
(`--database eu`, as that database's owner: HERALD_TENANT_MIGRATE_DATABASES).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

from alerting.infra.tenant_databases import tenant_database_aliases
from tenants.selectors import tenant_list


def _grants(role: sql.Identifier, schema: sql.Identifier) -> list[sql.Composed]:
    return [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, role
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role),
    ]


class Command(BaseCommand):
    help = "Grant DML (not ownership, not TRUNCATE) on every schema to the application's role."

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role DATABASE_URL connects as.")
        parser.add_argument(
            "--database", default="default",
            help="The database to grant on (an alias of HERALD_TENANT_DATABASES); its "
            "shared schema and the schemas of the tenants that live there.",
        )

    def handle(self, *args, role, database, **options):
        if database not in tenant_database_aliases():
            raise CommandError(f"{database!r} is not one of HERALD_TENANT_DATABASES' aliases")
        role_name = sql.Identifier(role)
        schemas = [
            "public",
            *(tenant.schema_name for tenant in tenant_list() if tenant.database == database),
        ]
        with connections[database].cursor() as cursor:
            for schema in schemas:
                for statement in _grants(role_name, sql.Identifier(schema)):
                    cursor.execute(statement)
            # Tables and schemas the owner creates from now on (new tenants).
            cursor.execute(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
                ).format(role_name)
            )
            cursor.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
                    role_name
                )
            )
            cursor.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {}").format(role_name)
            )
        self.stdout.write(
            f"{role}: DML granted on {len(schemas)} schemas of {database} and on what comes next."
        )
