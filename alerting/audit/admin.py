"""The audit log in the tenant admin (read-only for everyone; the operators' admin shows
its own chain the same way), and the mixin that records what the admin changes."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alerting.admin_export import CsvExportMixin
from alerting.audit.models import AuditEntry, AuditSource, ChainedAuditEntry
from alerting.audit.services import audit_record, audit_snapshot
from tenants.roles import RolePermissionsMixin
from tenants.sites import client_ip


class AuditedAdminMixin:
    """Records create, update and delete made through this ModelAdmin.

    The snapshot after a save is taken once the related objects (many-to-many,
    inlines) are saved too. `audit_secret_fields` are redacted.
    """

    audit_secret_fields: tuple[str, ...] = ()

    def audit_extra(self, obj: models.Model) -> dict[str, Any]:
        """More of the object's state to record (e.g. its inline rows)."""
        return {}

    def _audit_state(self, obj: models.Model, secrets_before=None) -> dict[str, Any]:
        snapshot = audit_snapshot(
            obj=obj, secret_fields=self.audit_secret_fields, secrets_before=secrets_before
        )
        return {**snapshot, **self.audit_extra(obj)}

    def _audit(self, request, *, action, obj, before=None, after=None) -> None:
        audit_record(
            actor=request.user.get_username(),
            source=AuditSource.ADMIN,
            action=action,
            obj_type=obj._meta.label_lower,
            obj_id=obj.pk,
            obj_repr=str(obj),
            before=before,
            after=after,
            ip=client_ip(request),
        )

    def save_model(self, request, obj, form, change):
        if change:
            old = type(obj).objects.get(pk=obj.pk)
            request._herald_audit = (
                self._audit_state(old),
                {name: getattr(old, name) for name in self.audit_secret_fields},
            )
        else:
            request._herald_audit = (None, None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before, secrets_before = getattr(request, "_herald_audit", (None, None))
        saved = type(form.instance).objects.get(pk=form.instance.pk)
        after = self._audit_state(saved, secrets_before=secrets_before if change else None)
        self._audit(
            request, action="update" if change else "create", obj=saved, before=before,
            after=after,
        )

    def delete_model(self, request, obj):
        before = self._audit_state(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        self._audit(request, action="delete", obj=obj, before=before)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    # Django's own LogEntry lives in the shared schema, keyed by content type
    # ids of the public schema, and would mix tenants' histories: the audit
    # log replaces it, and the "History" page shows the object's entries.
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    def history_view(self, request, object_id, extra_context=None):
        from django.core.exceptions import PermissionDenied
        from django.template.response import TemplateResponse

        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = AuditEntry.objects.filter(
            object_type=self.opts.label_lower, object_id=str(obj.pk)
        ).order_by("-id")[:200]
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": entries,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/audit/object_history.html", context)


def _pretty(value: Any) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


class PeriodFilter(admin.SimpleListFilter):
    """Time range on the model's `period_field`: the last hour, day, week."""

    title = _("time range")
    parameter_name = "period"
    period_field = "at"
    _HOURS = {"1h": 1, "24h": 24, "7d": 24 * 7, "30d": 24 * 30}

    def lookups(self, request, model_admin):
        return [("1h", _("Last hour")), ("24h", _("Last 24 hours")), ("7d", _("Last 7 days")),
                ("30d", _("Last 30 days"))]

    def queryset(self, request, queryset):
        from datetime import timedelta

        from django.utils import timezone

        hours = self._HOURS.get(self.value() or "")
        if hours is None:
            return queryset
        since = timezone.now() - timedelta(hours=hours)
        return queryset.filter(**{f"{self.period_field}__gte": since})


class AuditLogAdmin(CsvExportMixin, admin.ModelAdmin):
    """How a chain is shown: the tenant's log here, the operators' one on the public site
    (tenants/admin.py). Read-only: combine with AppendOnlyAdminMixin, first."""

    list_display = ["at", "actor", "source", "ip", "action", "object_type", "object_repr"]
    list_filter = [PeriodFilter, "source", "action", "object_type"]
    search_fields = ["actor", "object_repr", "object_id"]
    date_hierarchy = "at"
    fields = [
        "at", "actor", "source", "ip", "action", "object_type", "object_id", "object_repr",
        "before_pretty", "after_pretty", "seq", "key_id", "previous_hash", "hash",
    ]
    readonly_fields = fields
    csv_columns = [
        ("id", lambda e: e.id),
        ("at", lambda e: e.at.isoformat()),
        ("actor", lambda e: e.actor),
        ("source", lambda e: e.source),
        ("ip", lambda e: e.ip),
        ("action", lambda e: e.action),
        ("object_type", lambda e: e.object_type),
        ("object_id", lambda e: e.object_id),
        ("object", lambda e: e.object_repr),
        ("before", lambda e: json.dumps(e.before, sort_keys=True) if e.before else ""),
        ("after", lambda e: json.dumps(e.after, sort_keys=True) if e.after else ""),
        ("previous_hash", lambda e: e.previous_hash),
        ("hash", lambda e: e.hash),
        # The chain's position and the audit key's id (empty: a legacy SHA-256 entry).
        ("seq", lambda e: e.seq if e.seq is not None else ""),
        ("key_id", lambda e: e.key_id),
    ]

    @admin.display(description=_("Before"))
    def before_pretty(self, obj: ChainedAuditEntry) -> str:
        return _pretty(obj.before)

    @admin.display(description=_("After"))
    def after_pretty(self, obj: ChainedAuditEntry) -> str:
        return _pretty(obj.after)


class AppendOnlyAdminMixin:
    """Append-only for everyone, operators included: the database agrees."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(AppendOnlyAdminMixin, RolePermissionsMixin, AuditLogAdmin):
    pass
