"""Shared-schema list of spare schemas: tenant schemas cloned ahead of time (issue 22).

A spare is not a tenant: it has no Tenant row, so django-tenants (migrate_schemas),
the due-work ticks, backups and the admin never see it. tenant_create claims one
and renames it (tenants/spare_schemas.py).
"""

from django.db import models
from django.utils import timezone


class SpareSchema(models.Model):
    schema_name = models.CharField(max_length=63, unique=True)
    # The template's django_migrations (count, max id) the spare was cloned at:
    # a spare whose pair differs from the template's is stale, never handed out.
    template_migrations = models.IntegerField()
    template_last_migration = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "spare schema"  # internal: not in any admin or page

    def __str__(self) -> str:
        return self.schema_name
