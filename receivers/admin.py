"""The tenant admin: receivers (a form per kind, health, test send), templates with
a live preview, notification history (filters, attempts, retry, CSV)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from alerting.admin_export import CsvExportMixin
from alerting.audit.admin import AuditedAdminMixin, PeriodFilter
from receivers.delivery import RetryError, notification_retry, receiver_test_send
from receivers.forms import MessageTemplateForm, receiver_form_class
from receivers.message_rendering import message_preview
from receivers.models import (
    DeliveryAttempt,
    MessageTemplate,
    Notification,
    NotificationState,
    Receiver,
    ReceiverKind,
)
from receivers.preview_gate import PreviewRefused, preview_rate_take, preview_slot
from receivers.redaction import secret_mask
from receivers.selectors import receiver_health_list
from receivers.services import message_template_save, receiver_save
from receivers.template_preview import template_preview
from receivers.transports import channel_choices, channel_kinds
from tenants.roles import RolePermissionsMixin
from tenants.sites import client_ip

_STATE_COLOURS = {"closed": "#2e7d32", "open": "#c62828", "half_open": "#ef6c00"}


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

        @admin.display(description="Circuit")
        def circuit(obj):
            state = health(obj).get("state") or "—"
            return format_html(
                '<b style="color:{}">{}</b>', _STATE_COLOURS.get(state, "inherit"), state
            )

        @admin.display(description="Last success")
        def last_success(obj):
            value = health(obj).get("last_success_at")
            return f"{value:%Y-%m-%d %H:%M}" if value else "—"

        @admin.display(description="Last error")
        def last_error(obj):
            item = health(obj)
            if not item.get("last_error"):
                return "—"
            return f"{item['last_failure_at']:%Y-%m-%d %H:%M}: {item['last_error'][:120]}"

        @admin.display(description="Failures (1 h)")
        def failures_last_hour(obj):
            return health(obj).get("failures_last_hour", 0)

        secrets = "saved_secrets" if self.has_change_permission(request) else "secret_names"
        return ["name", "kind", "enabled", circuit, last_success, last_error,
                failures_last_hour, secrets, "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return receiver_form_class(self._kind(request, obj) or ReceiverKind.WEBHOOK)

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

    @admin.display(description="Kind")
    def kind_display(self, obj: Receiver) -> str:
        return obj.get_kind_display() if obj.kind else "—"

    @admin.display(description="Settings")
    def config_display(self, obj: Receiver) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, sort_keys=True))

    @admin.display(description="Saved secrets")
    def saved_secrets(self, obj: Receiver) -> str:
        if not obj.pk or not isinstance(obj.secrets, dict) or not obj.secrets:
            return "—"
        return format_html_join(
            ", ", "{}: {}", ((name, secret_mask(str(value))) for name, value in obj.secrets.items())
        )

    @admin.display(description="Secrets")
    def secret_names(self, obj: Receiver) -> str:
        if not obj.pk or not isinstance(obj.secrets, dict) or not obj.secrets:
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

    @admin.action(description="Send a test notification", permissions=["act"])
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
                    '{}: test notification <a href="{}">delivered</a>{}.', receiver.name, url,
                    status,
                ), messages.SUCCESS)
            else:
                self.message_user(request, format_html(
                    '{}: test notification <a href="{}">{}</a>: {}', receiver.name, url,
                    "failed" if notification.state == NotificationState.FAILED
                    else "not delivered yet, will retry",
                    notification.last_error or "no answer",
                ), messages.ERROR)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["channel", "language", "part", "updated_at"]
    list_filter = ["channel", "language"]
    readonly_fields = ["preview"]
    change_form_template = "admin/receivers/messagetemplate/change_form.html"

    @admin.display(description="Preview (sample alert, as saved)")
    def preview(self, obj: MessageTemplate) -> str:
        if not obj.pk:
            return "Save to see a preview."
        overrides = {(obj.language, obj.part): obj.source}
        rows = []
        for status in ("firing", "resolved"):
            rendered = message_preview(
                channel=obj.channel, language=obj.language, status=status, overrides=overrides
            )
            rows.append((status, rendered[obj.part]))
        return format_html_join("", "<h4>{}</h4><pre>{}</pre>", rows)

    def get_urls(self):
        return [
            path("live-preview/", self.admin_site.admin_view(self.live_preview_view),
                 name="receivers_messagetemplate_live_preview"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        recent = (
            Notification.objects.order_by("-created_at")
            .values("id", "channel", "receiver_name", "status", "created_at")[:20]
        )
        context["recent_notifications"] = recent
        context["can_preview"] = self.has_change_permission(request, obj) or (
            add and self.has_add_permission(request)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def live_preview_view(self, request: HttpRequest) -> JsonResponse:
        return require_POST(self._live_preview)(request)

    def _live_preview(self, request: HttpRequest) -> JsonResponse:
        # Rendering user-written templates is for those who may write them.
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        channel = request.POST.get("channel", "")
        if channel not in channel_kinds():
            return JsonResponse({"error": "Choose a channel.", "line": None})
        notification = request.POST.get("notification") or ""
        try:
            preview_rate_take(user_id=request.user.pk)
            with preview_slot():
                preview = template_preview(
                    channel=channel,
                    language=request.POST.get("language") or "en",
                    part=request.POST.get("part", ""),
                    source=request.POST.get("source", ""),
                    notification_id=int(notification) if notification.isdigit() else None,
                )
        except PreviewRefused as refused:
            response = JsonResponse(
                {"error": refused.reason, "line": None, "retry_after": refused.retry_after},
                status=429,
            )
            response["Retry-After"] = str(refused.retry_after)
            return response
        return JsonResponse(
            {
                "rendered": preview.rendered,
                "error": preview.error,
                "line": preview.line,
                "render_ms": preview.render_ms,
                "check_ms": preview.check_ms,
                "check_sample": preview.check_sample,
            }
        )

    def save_model(self, request, obj, form, change):
        if change:
            old = MessageTemplate.objects.get(pk=obj.pk)
            request._herald_audit = (self._audit_state(old), None)
        else:
            request._herald_audit = (None, None)
        message_template_save(
            channel=obj.channel,
            language=obj.language,
            part=obj.part,
            source=obj.source,
            template=obj,
        )


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "outcome", "http_status", "latency_ms", "error"]

    def has_view_permission(self, request, obj=None):
        return True  # the notification admin decided who sees the notification

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreatedPeriodFilter(PeriodFilter):
    period_field = "created_at"


class AlertNameFilter(admin.SimpleListFilter):
    title = "alert name"
    parameter_name = "alertname"

    def lookups(self, request, model_admin):
        names = (
            Notification.objects.order_by()
            .values_list("alert_group__common_labels__alertname", flat=True)
            .distinct()[:100]
        )
        return [(name, name) for name in sorted(n for n in names if n)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(alert_group__common_labels__alertname=self.value())


def _alertname(notification: Notification) -> str:
    return notification.alert_group.common_labels.get("alertname", "")


@admin.register(Notification)
class NotificationAdmin(RolePermissionsMixin, CsvExportMixin, admin.ModelAdmin):
    list_display = [
        "created_at", "alertname", "receiver_name", "channel", "status", "state", "attempts",
        "last_http_status", "last_latency_ms", "short_error",
    ]
    list_filter = [CreatedPeriodFilter, "state", "channel", "status", "receiver_name",
                   AlertNameFilter]
    search_fields = ["receiver_name", "alert_group__group_key"]
    date_hierarchy = "created_at"
    list_select_related = ["alert_group"]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]
    fields = [
        "created_at", "alert_group_link", "receiver_name", "channel", "status", "acknowledgement",
        "state", "attempts", "delivered_at", "next_attempt_at", "last_http_status",
        "last_latency_ms", "last_error", "alerts_pretty",
    ]
    readonly_fields = fields
    csv_columns = [
        ("id", lambda n: n.id),
        ("created_at", lambda n: n.created_at.isoformat()),
        ("alertname", _alertname),
        ("alert_group_id", lambda n: n.alert_group_id),
        ("receiver", lambda n: n.receiver_name),
        ("channel", lambda n: n.channel),
        ("status", lambda n: n.status),
        ("state", lambda n: n.state),
        ("attempts", lambda n: n.attempts),
        ("delivered_at", lambda n: n.delivered_at.isoformat() if n.delivered_at else ""),
        ("last_http_status", lambda n: n.last_http_status),
        ("last_latency_ms", lambda n: n.last_latency_ms),
        ("last_error", lambda n: n.last_error),
    ]

    @admin.display(description="Alert name")
    def alertname(self, obj: Notification) -> str:
        return _alertname(obj)

    @admin.display(description="Error")
    def short_error(self, obj: Notification) -> str:
        return (obj.last_error or "")[:80]

    @admin.display(description="Alert group")
    def alert_group_link(self, obj: Notification) -> str:
        url = reverse("admin:alerting_alertgroup_change", args=[obj.alert_group_id])
        return format_html('<a href="{}">{}</a>', url, _alertname(obj) or obj.alert_group_id)

    @admin.display(description="Alerts as notified")
    def alerts_pretty(self, obj: Notification) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.alerts, indent=2, sort_keys=True))

    @admin.action(description="Retry now (failed notifications)", permissions=["act"])
    def retry_now(self, request, queryset):
        retried = 0
        for notification in queryset:
            try:
                notification_retry(
                    notification_id=notification.id, actor=request.user.get_username(),
                    ip=client_ip(request),
                )
                retried += 1
            except RetryError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if retried:
            self.message_user(request, f"Retrying {retried} notification(s) now.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
