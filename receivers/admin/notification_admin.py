"""Notification history in the tenant admin: filters, delivery attempts, retry, CSV."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from alerting.admin_export import CsvExportMixin
from alerting.admin_inlines import HistoryInline
from alerting.audit.admin import PeriodFilter
from receivers.delivery import RetryError, notification_retry
from receivers.models import DeliveryAttempt, Notification
from receivers.selectors import notification_recipient
from tenants.roles import RolePermissionsMixin
from tenants.sites import client_ip


class DeliveryAttemptInline(HistoryInline):
    model = DeliveryAttempt
    readonly_fields = ["number", "started_at", "outcome", "provider_status", "http_status",
                       "latency_ms", "error"]


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
        "created_at", "alertname", "receiver_name", "recipient", "channel", "status", "state",
        "attempts", "last_http_status", "last_latency_ms", "short_error",
    ]
    list_filter = [CreatedPeriodFilter, "state", "channel", "status", "receiver_name",
                   AlertNameFilter]
    search_fields = ["receiver_name", "alert_group__group_key", "recipient_address",
                     "page__person_name"]
    date_hierarchy = "created_at"
    list_select_related = ["alert_group", "page"]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]
    fields = [
        "created_at", "alert_group_link", "receiver_name", "recipient", "page_summary", "channel",
        "status", "acknowledgement",
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

    @admin.display(description=gettext_lazy("Alert name"))
    def alertname(self, obj: Notification) -> str:
        return _alertname(obj)

    @admin.display(description=gettext_lazy("Paged person and address"))
    def recipient(self, obj: Notification) -> str:
        return notification_recipient(obj) or "—"

    @admin.display(description=gettext_lazy("Page"))
    def page_summary(self, obj: Notification) -> str:
        page = obj.page
        if page is None:
            return "—"
        version = f", schedule version {page.schedule_version}" if page.schedule_version else ""
        return f"{page.person_name}, {page.target}{version}, level {page.level}: {page.state}"

    @admin.display(description=gettext_lazy("Error"))
    def short_error(self, obj: Notification) -> str:
        return (obj.last_error or "")[:80]

    @admin.display(description=gettext_lazy("Alert group"))
    def alert_group_link(self, obj: Notification) -> str:
        url = reverse("admin:alerting_alertgroup_change", args=[obj.alert_group_id])
        return format_html('<a href="{}">{}</a>', url, _alertname(obj) or obj.alert_group_id)

    @admin.display(description=gettext_lazy("Alerts as notified"))
    def alerts_pretty(self, obj: Notification) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.alerts, indent=2, sort_keys=True))

    @admin.action(description=gettext_lazy("Retry now (failed notifications)"), permissions=["act"])
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
            self.message_user(request, ngettext(
                "Retrying %(count)d notification now.", "Retrying %(count)d notifications now.",
                retried) % {"count": retried})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
