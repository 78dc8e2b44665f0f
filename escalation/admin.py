"""Escalation policies with their ordered levels, business hours, running chains."""

from django.contrib import admin

from escalation.models import (
    BusinessHoursWindow,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
)


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 1
    fields = ["position", "delay_minutes", "receivers"]
    filter_horizontal = ["receivers"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "repeat_count", "business_hours"]
    inlines = [EscalationLevelInline]


@admin.register(BusinessHoursWindow)
class BusinessHoursWindowAdmin(admin.ModelAdmin):
    list_display = ["weekday", "start", "end"]


class EscalationEventInline(admin.TabularInline):
    model = EscalationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "kind", "level", "detail"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    """Running and past chains: read-only, they move by themselves."""

    list_display = ["alert_group", "policy_name", "state", "step", "repeats_done", "next_step_at"]
    list_filter = ["state", "policy_name"]
    inlines = [EscalationEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
