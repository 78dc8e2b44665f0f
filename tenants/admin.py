"""The operators' admin on the public site: tenants, domains, ingest keys."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from tenants.models import Domain, IngestKey, Tenant


class PublicAdminSite(admin.AdminSite):
    site_header = "Herald operations"
    site_title = "Herald operations"


public_admin = PublicAdminSite(name="public_admin")
public_admin.register(User, UserAdmin)
public_admin.register(Group, GroupAdmin)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=public_admin)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "allow_private_targets", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # The schema is created with the tenant; renaming it would orphan it.
        return ["schema_name"] if obj else []


@admin.register(IngestKey, site=public_admin)
class IngestKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "prefix", "created_at", "revoked_at"]
    list_filter = ["tenant"]
    readonly_fields = ["prefix", "key_hash", "created_at"]
    fields = ["tenant", "name", "prefix", "created_at", "revoked_at"]

    def has_add_permission(self, request):
        # Keys are shown once when created: `manage.py create_tenant` or the API.
        return False
