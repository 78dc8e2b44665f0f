from django.contrib import admin

from alerting.reports.models import SlaTarget
from tenants.roles import RolePermissionsMixin


@admin.register(SlaTarget)
class SlaTargetAdmin(RolePermissionsMixin, admin.ModelAdmin):
    list_display = ("severity", "acknowledge_within_minutes")
