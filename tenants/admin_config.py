"""Makes the tenant admin site (membership and roles) Django's default admin site."""

from django.contrib.admin.apps import AdminConfig


class HeraldAdminConfig(AdminConfig):
    default_site = "tenants.sites.TenantAdminSite"

    def ready(self) -> None:
        super().ready()
        from tenants import checks  # noqa: F401 - registers production mode's checks
