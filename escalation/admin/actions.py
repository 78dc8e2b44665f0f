"""Actions taken from chat and links: who did what to which alert group, from where, when.

Read from the audit trail (escalation.models.ActionTaken is a proxy of its
entries), so the list is the evidence itself, for auditors too; nobody can
add, change or delete a row.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from alerting.admin_export import CsvExportMixin
from alerting.audit.admin import AppendOnlyAdminMixin, PeriodFilter
from escalation.models import ActionTaken
from escalation.models.actions import ACTION_NAMES, ACTION_SOURCES
from tenants.roles import RolePermissionsMixin


def _after(entry: ActionTaken, key: str) -> str:
    value = (entry.after or {}).get(key)
    return "" if value is None else str(value)


@admin.register(ActionTaken)
class ActionTakenAdmin(AppendOnlyAdminMixin, RolePermissionsMixin, CsvExportMixin,
                       admin.ModelAdmin):
    list_display = ["at", "person", "action", "channel", "group", "source", "ip"]
    list_filter = [PeriodFilter, "action", "source"]
    search_fields = ["actor", "object_repr", "object_id"]
    date_hierarchy = "at"
    list_per_page = 100
    fields = ["at", "actor", "person", "action", "channel", "source", "group", "incident",
              "details", "ip"]
    readonly_fields = fields
    csv_columns = [
        ("at", lambda e: e.at.isoformat()),
        ("actor", lambda e: e.actor),
        ("person", lambda e: _after(e, "person")),
        ("action", lambda e: e.action),
        ("channel", lambda e: _after(e, "channel")),
        ("source", lambda e: e.source),
        ("alert_group_id", lambda e: e.object_id),
        ("alert_group", lambda e: e.object_repr),
        ("incident", lambda e: _after(e, "incident")),
        ("ip", lambda e: e.ip),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(
            source__in=ACTION_SOURCES, action__in=ACTION_NAMES,
            object_type="alerting.alertgroup",
        )

    @admin.display(description=gettext_lazy("Who"))
    def person(self, entry: ActionTaken) -> str:
        name = _after(entry, "person")
        return f"{name} ({entry.actor})" if name and name != entry.actor else entry.actor

    @admin.display(description=gettext_lazy("Channel"))
    def channel(self, entry: ActionTaken) -> str:
        return _after(entry, "channel")

    @admin.display(description=gettext_lazy("Incident"))
    def incident(self, entry: ActionTaken) -> str:
        return _after(entry, "incident")

    @admin.display(description=gettext_lazy("Alert group"))
    def group(self, entry: ActionTaken) -> str:
        url = reverse("admin:alerting_alertgroup_change", args=[entry.object_id])
        return format_html('<a href="{}">{}</a>', url, entry.object_repr[:120])

    @admin.display(description=gettext_lazy("Details"))
    def details(self, entry: ActionTaken) -> str:
        shown = {key: value for key, value in (entry.after or {}).items()
                 if key not in {"person", "channel", "incident"}}
        return ", ".join(f"{key}: {value}" for key, value in sorted(shown.items())) or "—"
