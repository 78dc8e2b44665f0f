"""The tenant admin: receivers (a form per kind), templates with a preview, history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from receivers.forms import MessageTemplateForm, receiver_form_class
from receivers.models import DeliveryAttempt, MessageTemplate, Notification, Receiver, ReceiverKind
from receivers.redaction import secret_mask
from receivers.services import message_template_save, receiver_save
from receivers.templating import message_preview


@admin.register(Receiver)
class ReceiverAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "enabled", "saved_secrets", "updated_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]

    def _kind(self, request: HttpRequest, obj: Receiver | None) -> str | None:
        kind = obj.kind if obj else request.GET.get("kind")
        return kind if kind in ReceiverKind.values else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        return receiver_form_class(self._kind(request, obj) or ReceiverKind.WEBHOOK)

    def get_fieldsets(self, request, obj=None):
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
        return ["kind_display", "saved_secrets"]

    @admin.display(description="Kind")
    def kind_display(self, obj: Receiver) -> str:
        return obj.get_kind_display() if obj.kind else "—"

    @admin.display(description="Saved secrets")
    def saved_secrets(self, obj: Receiver) -> str:
        if not obj.pk or not isinstance(obj.secrets, dict) or not obj.secrets:
            return "—"
        return format_html_join(
            ", ", "{}: {}", ((name, secret_mask(str(value))) for name, value in obj.secrets.items())
        )

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> Any:
        if self._kind(request, None) is None:
            return self._choose_kind(request)
        return super().add_view(request, form_url, extra_context)

    def _choose_kind(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Add receiver",
            "kinds": ReceiverKind.choices,
        }
        return TemplateResponse(request, "admin/receivers/receiver/choose_kind.html", context)

    def save_model(self, request, obj, form, change):
        receiver_save(
            receiver=obj,
            config=form.settings_config,
            secrets=form.settings_secrets,
            clear_secrets=form.cleared_secrets,
        )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["channel", "language", "part", "updated_at"]
    list_filter = ["channel", "language"]
    readonly_fields = ["preview"]

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

    def save_model(self, request, obj, form, change):
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

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "receiver_name",
        "channel",
        "status",
        "state",
        "attempts",
        "last_http_status",
        "last_latency_ms",
    ]
    list_filter = ["state", "channel", "status", "receiver_name"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
