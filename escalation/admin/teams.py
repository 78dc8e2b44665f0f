"""Teams: named groups of people with their default escalation policy and schedules."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from alerting.audit.admin import AuditedAdminMixin
from escalation.admin.inlines import RoleInlineMixin
from escalation.models import Team, TeamMember
from tenants.roles import RolePermissionsMixin


class TeamMemberInline(RoleInlineMixin, admin.TabularInline):
    model = TeamMember
    extra = 1
    max_num = 500
    fields = ["person", "role", "position"]
    ordering = ["position", "id"]
    verbose_name = "member (position: the order of round robin)"
    verbose_name_plural = "members (position: the order of round robin)"


@admin.register(Team)
class TeamAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "escalation_policy", "member_names", "lead_names", "schedule_names"]
    search_fields = ["name"]
    fields = ["name", "escalation_policy"]
    inlines = [TeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("escalation_policy").prefetch_related(
            "memberships__person", "schedules"
        )

    @admin.display(description=gettext_lazy("Members"))
    def member_names(self, obj: Team) -> str:
        return ", ".join(m.person.display_name for m in obj.memberships.all()) or "—"

    @admin.display(description=gettext_lazy("Leads"))
    def lead_names(self, obj: Team) -> str:
        return ", ".join(
            m.person.display_name for m in obj.memberships.all() if m.role == "lead"
        ) or "—"

    @admin.display(description=gettext_lazy("Schedules"))
    def schedule_names(self, obj: Team) -> str:
        return ", ".join(schedule.name for schedule in obj.schedules.all()) or "—"

    def audit_extra(self, obj: Team) -> dict:
        return {"members": [
            [m.person_id, m.role, m.position]
            for m in TeamMember.objects.filter(team_id=obj.pk).order_by("position", "id")
        ]}
