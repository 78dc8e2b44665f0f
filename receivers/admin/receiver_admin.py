"""Receivers in the tenant admin: a form per kind, health at a glance, a test send."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from alerting.audit.admin import AuditedAdminMixin
from alerting.fields import encrypted_value_readable
from receivers.delivery import receiver_test_send
from receivers.forms import receiver_form_class
from receivers.models import NotificationState, Receiver
from receivers.redaction import secret_mask
from receivers.selectors import receiver_health_list
from receivers.services import receiver_save
from receivers.transports import channel_choices, channel_kinds
from tenants.roles import RolePermissionsMixin
from tenants.sites import client_ip

_STATE_COLOURS = {"closed": "#2e7d32", "open": "#c62828", "half_open": "#ef6c00"}

# Shown where the saved secrets would be, when no configured key decrypts them.
_UNREADABLE = "cannot be decrypted with the configured keys (HERALD_ENCRYPTION_KEYS)"


@admin.register(Receiver)
class ReceiverAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "enabled", "saved_secrets", "updated_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    actions = ["send_test_notification"]
    audit_secret_fields = ("secrets",)

    def _kind(self, request: HttpRequest, obj: Receiver | None) -> str | None:
        kind = obj.kind if obj else request.GET.get("kind")
        return kind if kind in channel_kinds() else None

    def get_list_display(self, request):
        # Health is read once per page, for the receivers on it.
        page_health: dict[int, dict[str, Any]] = {}

        def health(obj: Receiver) -> dict[str, Any]:
            if not page_health:
                page_health.update(
                    (item.receiver_id, asdict(item)) for item in receiver_health_list()
                )
            return page_health.get(obj.id, {})

        @admin.display(description=gettext_lazy("Circuit"))
        def circuit(obj):
            state = health(obj).get("state") or "—"
            return format_html(
                '<b style="color:{}">{}</b>', _STATE_COLOURS.get(state, "inherit"), state
            )

        @admin.display(description=gettext_lazy("Last success"))
        def last_success(obj):
            value = health(obj).get("last_success_at")
            return f"{value:%Y-%m-%d %H:%M}" if value else "—"

        @admin.display(description=gettext_lazy("Last error"))
        def last_error(obj):
            item = health(obj)
            if not item.get("last_error"):
                return "—"
            return f"{item['last_failure_at']:%Y-%m-%d %H:%M}: {item['last_error'][:120]}"

        @admin.display(description=gettext_lazy("Failures (1 h)"))
        def failures_last_hour(obj):
            return health(obj).get("failures_last_hour", 0)

        secrets = "saved_secrets" if self.has_change_permission(request) else "secret_names"
        return ["name", "kind", "enabled", circuit, last_success, last_error,
                failures_last_hour, secrets, "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Without a kind (the add view sends that request to the chooser first),
        # any registered channel's form will do: take the first.
        return receiver_form_class(self._kind(request, obj) or channel_kinds()[0])

    def get_fieldsets(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            # Read-only (auditors): the settings that are not secret, and the
            # names of the secrets only.
            return [(None, {"fields": ["name", "kind_display", "enabled", "max_attempts",
                                       "config_display", "secret_names"]})]
        form = self.get_form(request, obj)
        settings_fields = [
            name for name in form.base_fields if name not in ("name", "enabled", "max_attempts")
        ]
        return [
            (None, {"fields": ["name", "kind_display", "enabled", "max_attempts"]}),
            ("Settings", {"fields": settings_fields}),
            ("Saved secrets", {"fields": ["saved_secrets"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return ["name", "kind_display", "enabled", "max_attempts", "config_display",
                    "secret_names"]
        return ["kind_display", "saved_secrets"]

    @admin.display(description=gettext_lazy("Kind"))
    def kind_display(self, obj: Receiver) -> str:
        return obj.get_kind_display() if obj.kind else "—"

    @admin.display(description=gettext_lazy("Settings"))
    def config_display(self, obj: Receiver) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, sort_keys=True))

    @admin.display(description=gettext_lazy("Saved secrets"))
    def saved_secrets(self, obj: Receiver) -> str:
        if obj.pk and not encrypted_value_readable(obj, "secrets"):
            return _UNREADABLE
        if not obj.pk or not obj.secrets:
            return "—"
        return format_html_join(
            ", ", "{}: {}", ((name, secret_mask(str(value))) for name, value in obj.secrets.items())
        )

    @admin.display(description=gettext_lazy("Secrets"))
    def secret_names(self, obj: Receiver) -> str:
        if obj.pk and not encrypted_value_readable(obj, "secrets"):
            return _UNREADABLE
        if not obj.pk or not obj.secrets:
            return "—"
        return ", ".join(f"{name}: set" for name in sorted(obj.secrets))

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> Any:
        if self._kind(request, None) is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            return self._choose_kind(request)
        return super().add_view(request, form_url, extra_context)

    def _choose_kind(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Add receiver",
            "kinds": channel_choices(),
        }
        return TemplateResponse(request, "admin/receivers/receiver/choose_kind.html", context)

    def save_model(self, request, obj, form, change):
        if change:  # what the audit entry compares against (secrets only as "changed")
            old = Receiver.objects.get(pk=obj.pk)
            request._herald_audit = (self._audit_state(old), {"secrets": old.secrets})
        else:
            request._herald_audit = (None, None)
        receiver_save(
            receiver=obj,
            config=form.settings_config,
            secrets=form.settings_secrets,
            clear_secrets=form.cleared_secrets,
        )
        for note in getattr(form, "notes", ()):  # e.g. a credential header moved to secrets
            self.message_user(request, note, messages.INFO)

    @admin.action(description=gettext_lazy("Send a test notification"), permissions=["act"])
    def send_test_notification(self, request, queryset):
        for receiver in queryset:
            notification, _ = receiver_test_send(
                receiver=receiver, actor=request.user.get_username(), ip=client_ip(request)
            )
            url = reverse("admin:receivers_notification_change", args=[notification.id])
            if notification.state == NotificationState.DELIVERED:
                status = f" (HTTP {notification.last_http_status})" \
                    if notification.last_http_status else ""
                self.message_user(request, format_html(
                    gettext('{}: test notification <a href="{}">delivered</a>{}.'),
                    receiver.name, url, status,
                ), messages.SUCCESS)
            else:
                self.message_user(request, format_html(
                    gettext('{}: test notification <a href="{}">{}</a>: {}'), receiver.name, url,
                    gettext("failed") if notification.state == NotificationState.FAILED
                    else gettext("not delivered yet, will retry"),
                    notification.last_error or gettext("no answer"),
                ), messages.ERROR)
