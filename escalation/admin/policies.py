"""Escalation policies with their ordered levels and each level's targets, business hours,
running chains."""

from django import forms
from django.contrib import admin
from django.db import connection
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from alerting.admin_inlines import HistoryInline
from alerting.audit.admin import AuditedAdminMixin
from escalation.admin.inlines import RoleInlineMixin
from escalation.models import (
    BusinessHoursWindow,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
)
from escalation.target_checks import escalation_target_check
from tenants.roles import RolePermissionsMixin


def _receivers_optional(field):
    """A level may page people, teams or schedules alone: receivers are not required."""
    if field is not None:
        field.required = False
    return field


class EscalationLevelInline(RoleInlineMixin, admin.TabularInline):
    model = EscalationLevel
    extra = 1
    fields = ["position", "delay_minutes", "receivers", "targets_link"]
    readonly_fields = ["targets_link"]
    filter_horizontal = ["receivers"]
    ordering = ["position", "id"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _receivers_optional(super().formfield_for_manytomany(db_field, request, **kwargs))

    @admin.display(description=gettext_lazy("People, teams, schedules"))
    def targets_link(self, obj: EscalationLevel) -> str:
        if not obj.pk:
            return "Save first, then name people, teams and schedules."
        targets = ", ".join(str(target) for target in obj.targets.all()) or "none"
        url = reverse("admin:escalation_escalationlevel_change", args=[obj.pk])
        return format_html('{} · <a href="{}">edit targets</a>', targets, url)


class EscalationTargetForm(forms.ModelForm):
    class Meta:
        model = EscalationTarget
        fields = ["kind", "receiver", "person", "team", "schedule", "layer", "fallback"]

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("DELETE"):
            escalation_target_check(
                kind=data.get("kind"), receiver=data.get("receiver"), person=data.get("person"),
                team=data.get("team"), schedule=data.get("schedule"), layer=data.get("layer"),
            )
        return data


class EscalationTargetInline(RoleInlineMixin, admin.TabularInline):
    model = EscalationTarget
    form = EscalationTargetForm
    extra = 1
    max_num = 50
    fields = ["kind", "receiver", "person", "team", "schedule", "layer", "fallback"]


@admin.register(EscalationLevel)
class EscalationLevelAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """A level's own page, reached from its policy: whom it pages besides its receivers."""

    fields = ["policy", "position", "delay_minutes", "receivers"]
    readonly_fields = ["policy"]
    filter_horizontal = ["receivers"]
    inlines = [EscalationTargetInline]
    list_display = ["policy", "position", "delay_minutes", "targets_summary"]

    def has_module_permission(self, request):
        return False  # listed under its policy

    def has_add_permission(self, request, *args):
        return False  # levels are added on their policy's page

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _receivers_optional(super().formfield_for_manytomany(db_field, request, **kwargs))

    @admin.display(description=gettext_lazy("Targets"))
    def targets_summary(self, obj: EscalationLevel) -> str:
        return ", ".join(str(target) for target in obj.targets.all()) or "—"

    def audit_extra(self, obj: EscalationLevel) -> dict:
        return {"targets": [
            {"kind": t.kind, "receiver": t.receiver_id, "person": t.person_id, "team": t.team_id,
             "schedule": t.schedule_id, "layer": t.layer_id, "fallback": t.fallback}
            for t in EscalationTarget.objects.filter(level_id=obj.pk).order_by("id")
        ]}


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "levels_summary", "repeat_count", "business_hours", "time_zone"]
    readonly_fields = ["time_zone"]
    inlines = [EscalationLevelInline]

    @admin.display(description=gettext_lazy("Levels"))
    def levels_summary(self, obj: EscalationPolicy) -> str:
        return " → ".join(
            f"+{level.delay_minutes}m: " + ", ".join(
                [r.name for r in level.receivers.all()] + [str(t) for t in level.targets.all()]
            )
            for level in obj.levels.all()
        ) or "—"

    @admin.display(description=gettext_lazy("Time zone (the tenant's, for business hours)"))
    def time_zone(self, obj=None) -> str:
        return format_html("{}", getattr(connection.tenant, "time_zone", "UTC"))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            "levels__receivers", "levels__targets"
        )

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

    @admin.display(description=gettext_lazy("Time zone"))
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
