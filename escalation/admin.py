"""Escalation policies with their ordered levels, business hours, running chains."""

from django.contrib import admin
from django.db import connection
from django.utils.html import format_html

from alerting.admin_inlines import HistoryInline
from alerting.audit.admin import AuditedAdminMixin
from escalation.models import (
    BusinessHoursWindow,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
)
from tenants.roles import RolePermissionsMixin


class RoleInlineMixin:
    """Inlines follow their parent's role checks (Django would ask global perms)."""

    def has_view_permission(self, request, obj=None):
        return self.parent_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def parent_admin(self):
        return self.admin_site._registry[self.parent_model]


class EscalationLevelInline(RoleInlineMixin, admin.TabularInline):
    model = EscalationLevel
    extra = 1
    fields = ["position", "delay_minutes", "receivers"]
    filter_horizontal = ["receivers"]
    ordering = ["position", "id"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "levels_summary", "repeat_count", "business_hours", "time_zone"]
    readonly_fields = ["time_zone"]
    inlines = [EscalationLevelInline]

    @admin.display(description="Levels")
    def levels_summary(self, obj: EscalationPolicy) -> str:
        return " → ".join(
            f"+{level.delay_minutes}m: {', '.join(r.name for r in level.receivers.all())}"
            for level in obj.levels.all()
        ) or "—"

    @admin.display(description="Time zone (the tenant's, for business hours)")
    def time_zone(self, obj=None) -> str:
        return format_html("{}", getattr(connection.tenant, "time_zone", "UTC"))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("levels__receivers")

    def audit_extra(self, obj: EscalationPolicy) -> dict:
        return {
            "levels": [
                {"position": level.position, "delay_minutes": level.delay_minutes,
                 "receivers": sorted(r.pk for r in level.receivers.all())}
                for level in EscalationLevel.objects.filter(policy_id=obj.pk)
                .prefetch_related("receivers").order_by("position", "id")
            ]
        }


@admin.register(BusinessHoursWindow)
class BusinessHoursWindowAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["weekday", "start", "end", "time_zone"]

    @admin.display(description="Time zone")
    def time_zone(self, obj=None) -> str:
        return getattr(connection.tenant, "time_zone", "UTC")


class EscalationEventInline(HistoryInline):
    model = EscalationEvent
    readonly_fields = ["at", "kind", "level", "detail"]


@admin.register(Escalation)
class EscalationAdmin(RolePermissionsMixin, admin.ModelAdmin):
    """Running and past chains: read-only, they move by themselves."""

    list_display = ["alert_group", "policy_name", "state", "step", "repeats_done", "next_step_at"]
    list_filter = ["state", "policy_name"]
    inlines = [EscalationEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
