"""The tenant admin for alerts, alert groups, routes and silences.

Alerts and groups are read-only (Alertmanager owns them); acknowledge and
resolve are actions for editors and admins, done through the services.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alerting import flapping
from alerting.admin_inlines import HistoryInline
from alerting.audit.admin import AuditedAdminMixin, PeriodFilter
from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor
from alerting.due import silence_due_note
from alerting.matchers import MatcherError, parse_matchers
from alerting.models import Alert, AlertGroup, Route, Silence
from alerting.selectors import route_outline
from alerting.services import (
    AlertGroupActionError,
    RouteTreeError,
    alert_group_acknowledge,
    alert_group_resolve,
    route_placement_check,
)
from receivers.severity import SEVERITIES, severity_lookup, severity_spellings
from tenants.roles import RolePermissionsMixin
from tenants.sites import client_ip


class ReadOnlyAdmin(RolePermissionsMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertInline(HistoryInline):
    model = Alert
    fields = ["fingerprint", "status", "flapping", "labels", "starts_at", "ends_at"]
    readonly_fields = fields


class SeverityFilter(admin.SimpleListFilter):
    """By level, as routing ranks it: "critical" also lists `crit`, `P1`, ` Fatal `..."""

    title = _("severity")
    parameter_name = "severity"
    label_path = "common_labels__severity"

    def lookups(self, request, model_admin):
        return [(name, name) for name in SEVERITIES if name != "none"]

    def queryset(self, request, queryset):
        level = severity_lookup(self.value()) if self.value() else None
        if level is None:
            return queryset
        spellings = "|".join(re.escape(spelling) for spelling in severity_spellings(level.name))
        return queryset.filter(**{f"{self.label_path}__iregex": rf"^\s*({spellings})\s*$"})


class AlertSeverityFilter(SeverityFilter):
    label_path = "labels__severity"


class GroupPeriodFilter(PeriodFilter):
    """On when last seen (groups and alerts alike)."""

    period_field = "last_seen_at"


class LabelSearchMixin:
    """Search also takes `name=value` and matches that label exactly."""

    label_field = "labels"

    def get_search_results(self, request, queryset, search_term):
        if "=" in search_term:
            name, _, value = search_term.partition("=")
            lookup = {f"{self.label_field}__contains": {name.strip(): value.strip().strip('"')}}
            return queryset.filter(**lookup), False
        return super().get_search_results(request, queryset, search_term)


def _audited_group_action(modeladmin, request, queryset, *, service, done_message) -> None:
    done = 0
    for group in queryset:
        audit = AuditActor(
            name=request.user.get_username(), source=AuditSource.ADMIN, ip=client_ip(request)
        )
        try:
            service(alert_group_id=group.id, by=request.user.get_username(), audit=audit)
        except AlertGroupActionError as exc:
            modeladmin.message_user(request, f"{group}: {exc}", messages.WARNING)
            continue
        done += 1
    modeladmin.message_user(request, done_message(done) % {"count": done})


@admin.register(AlertGroup)
class AlertGroupAdmin(LabelSearchMixin, ReadOnlyAdmin):
    label_field = "common_labels"
    actions = ["acknowledge", "resolve"]
    list_display = [
        "alertname", "severity", "status", "firing_count", "resolved_count", "acknowledged",
        "last_seen_at",
    ]
    list_filter = ["status", SeverityFilter, GroupPeriodFilter, "receiver"]
    search_fields = ["group_key"]
    date_hierarchy = "last_seen_at"
    inlines = [AlertInline]
    readonly_fields = ["notifications"]
    change_form_template = "admin/alerting/alertgroup/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from escalation.paging.selectors import (
            gap_count_for_group,
            gap_list_for_group,
            page_count_for_group,
            page_list_for_group,
            tenant_zone,
        )

        if request.method != "GET" or not str(object_id).isdigit():
            return super().change_view(request, object_id, form_url, extra_context)
        zone, group_id = tenant_zone(), int(object_id)
        context = {
            **(extra_context or {}),
            "paging_shown": True,
            "paging_zone": zone.key,
            "paging_pages": page_list_for_group(alert_group_id=group_id),
            "paging_page_count": page_count_for_group(alert_group_id=group_id),
            "paging_gaps": gap_list_for_group(alert_group_id=group_id),
            "paging_gap_count": gap_count_for_group(alert_group_id=group_id),
        }
        # Times on this page are the tenant's wall clock, as its business hours are (the
        # paging section names the zone); the admin's other pages use the viewer's zone.
        with timezone.override(zone):
            response = super().change_view(request, object_id, form_url, context)
            if hasattr(response, "render"):
                response.render()
        return response

    @admin.display(description=_("Alert name"))
    def alertname(self, obj: AlertGroup) -> str:
        return obj.common_labels.get("alertname") or obj.group_key

    @admin.display(description=_("Severity"))
    def severity(self, obj: AlertGroup) -> str:
        return obj.common_labels.get("severity", "")

    @admin.display(description=_("Acknowledged"))
    def acknowledged(self, obj: AlertGroup) -> str:
        if not obj.acknowledged_at:
            return "—"
        return _("%(who)s at %(when)s") % {
            "who": obj.acknowledged_by,
            "when": date_format(timezone.localtime(obj.acknowledged_at), "SHORT_DATETIME_FORMAT"),
        }

    @admin.display(description=_("Notifications and their attempts"))
    def notifications(self, obj: AlertGroup) -> str:
        from receivers.selectors import notification_list_for_group, notification_recipient

        rows = []
        for notification in notification_list_for_group(alert_group_id=obj.id):
            url = reverse("admin:receivers_notification_change", args=[notification.id])
            attempts = format_html_join(
                "", "<li>#{} {} {} HTTP {} {} ms {}</li>",
                ((a.number, timezone.localtime(a.started_at).strftime("%H:%M:%S"), a.outcome,
                  a.http_status or "—", a.latency_ms, a.error)
                 for a in notification.delivery_attempts.all()),
            )
            recipient = notification_recipient(notification)
            rows.append(format_html(
                '<li><a href="{}">{} → {} ({})</a>{}: {}<ul>{}</ul></li>',
                url, notification.status, notification.receiver_name, notification.channel,
                format_html(_(", page to {}"), recipient) if recipient else "",
                notification.state, attempts,
            ))
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((r,) for r in rows))) \
            if rows else "—"

    @admin.action(description=_("Acknowledge the selected alert groups"), permissions=["act"])
    def acknowledge(self, request, queryset):
        _audited_group_action(
            self, request, queryset, service=alert_group_acknowledge,
            done_message=lambda count: ngettext(
                "Acknowledged %(count)d alert group.", "Acknowledged %(count)d alert groups.",
                count),
        )

    @admin.action(description=_("Resolve the selected alert groups"), permissions=["act"])
    def resolve(self, request, queryset):
        _audited_group_action(
            self, request, queryset, service=alert_group_resolve,
            done_message=lambda count: ngettext(
                "Resolved %(count)d alert group.", "Resolved %(count)d alert groups.", count),
        )


@admin.register(Alert)
class AlertAdmin(LabelSearchMixin, ReadOnlyAdmin):
    list_display = ["__str__", "severity", "status", "flapping", "instance", "starts_at",
                    "ends_at", "last_seen_at"]
    list_filter = ["status", AlertSeverityFilter, GroupPeriodFilter, "suppressed", "flapping"]
    exclude = ["flap_changes", "flap_receivers"]  # noise control's bookkeeping (H4)
    search_fields = ["fingerprint"]
    date_hierarchy = "starts_at"
    list_select_related = ["group"]

    @admin.display(description=_("Severity"))
    def severity(self, obj: Alert) -> str:
        return obj.labels.get("severity", "")

    @admin.display(description=_("Instance"))
    def instance(self, obj: Alert) -> str:
        return obj.labels.get("instance", "")


def _clean_matchers(value: str, *, required: bool) -> str:
    try:
        parsed = parse_matchers(value)
    except MatcherError as exc:
        raise forms.ValidationError(str(exc)) from None
    if required and not parsed:
        raise forms.ValidationError(_("At least one matcher is needed."))
    return value


class RouteForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = [
            "name", "parent", "position", "matchers", "min_severity", "continue_matching",
            "is_default", "receivers", "inherit_receivers", "escalation_policy",
            "flap_threshold", "flap_window", "flap_hold",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "parent" in self.fields:
            # Itself is never a choice; its subtree is refused on save, with the reason.
            self.fields["parent"].queryset = Route.objects.exclude(pk=self.instance.pk)
        # Flapping settings (H4): left empty, the defaults (docs/noise-control.md).
        for name in ("flap_threshold", "flap_window"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_flap_threshold(self):
        value = self.cleaned_data.get("flap_threshold")
        return flapping.DEFAULT_THRESHOLD if value is None else value

    def clean_flap_window(self):
        value = self.cleaned_data.get("flap_window")
        return flapping.DEFAULT_WINDOW_SECONDS if value is None else value

    def clean_matchers(self):
        return _clean_matchers(self.cleaned_data["matchers"], required=False)

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        try:
            route_placement_check(
                route_id=self.instance.pk, parent_id=parent.pk if parent else None,
                is_default=bool(cleaned.get("is_default")),
            )
        except RouteTreeError as exc:
            self.add_error("parent" if parent else "is_default", str(exc))
        return cleaned


@admin.register(Route)
class RouteAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """The list shows the tree above it (order, nesting, who each route notifies)."""

    form = RouteForm
    list_display = ["position", "name", "parent", "matchers", "min_severity",
                    "continue_matching", "is_default", "escalation_policy"]
    list_display_links = ["name"]
    list_select_related = ["parent", "escalation_policy"]
    list_filter = [("parent", admin.EmptyFieldListFilter)]
    filter_horizontal = ["receivers"]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "route_outline": route_outline()}
        return super().changelist_view(request, extra_context=extra_context)


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = [
            "matchers", "kind", "starts_at", "ends_at", "weekdays", "window_start", "window_end",
            "time_zone", "comment",
        ]

    def clean_matchers(self):
        return _clean_matchers(self.cleaned_data["matchers"], required=True)


@admin.register(Silence)
class SilenceAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = SilenceForm
    list_display = ["matchers", "kind", "starts_at", "ends_at", "weekdays", "window_start",
                    "window_end", "time_zone", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        silence_due_note(silence=obj)  # the sweep releases what it holds when it ends



# Registers the ingest sources' admin (its own module, as it is its own subject).
from alerting import admin_sources  # noqa: E402, F401
