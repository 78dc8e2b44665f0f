"""Message templates in the tenant admin: the tenant's overrides, with a live preview."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from alerting.audit.admin import AuditedAdminMixin
from receivers.forms import MessageTemplateForm
from receivers.message_rendering import message_preview
from receivers.models import MessageTemplate, Notification
from receivers.preview_gate import PreviewRefused, preview_rate_take, preview_slot
from receivers.services import message_template_save
from receivers.template_preview import template_preview
from receivers.transports import channel_kinds
from tenants.roles import RolePermissionsMixin


@admin.register(MessageTemplate)
class MessageTemplateAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["channel", "language", "part", "updated_at"]
    list_filter = ["channel", "language"]
    readonly_fields = ["preview"]
    change_form_template = "admin/receivers/messagetemplate/change_form.html"

    @admin.display(description=gettext_lazy("Preview (sample alert, as saved)"))
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
