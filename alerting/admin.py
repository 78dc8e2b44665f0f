"""The tenant admin for alerts and alert groups (read-only: Alertmanager owns them)."""

from django import forms
from django.contrib import admin, messages

from alerting.matchers import MatcherError, parse_matchers
from alerting.models import Alert, AlertGroup, Route, Silence
from alerting.services import AlertGroupActionError, alert_group_acknowledge


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    fields = ["fingerprint", "status", "labels", "starts_at", "ends_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AlertGroup)
class AlertGroupAdmin(ReadOnlyAdmin):
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge the selected alert groups")
    def acknowledge(self, request, queryset):
        done = 0
        for group in queryset:
            try:
                alert_group_acknowledge(alert_group_id=group.id, by=request.user.get_username())
                done += 1
            except AlertGroupActionError as exc:
                self.message_user(request, f"{group}: {exc}", messages.WARNING)
        self.message_user(request, f"Acknowledged {done} alert group(s).")

    list_display = [
        "group_key", "receiver", "status", "firing_count", "resolved_count", "last_seen_at",
    ]
    list_filter = ["status", "receiver"]
    search_fields = ["group_key"]
    inlines = [AlertInline]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "fingerprint", "status", "starts_at", "ends_at", "last_seen_at"]
    list_filter = ["status"]
    search_fields = ["fingerprint"]


def _clean_matchers(value: str, *, required: bool) -> str:
    try:
        parsed = parse_matchers(value)
    except MatcherError as exc:
        raise forms.ValidationError(str(exc)) from None
    if required and not parsed:
        raise forms.ValidationError("At least one matcher is needed.")
    return value


class RouteForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = [
            "name", "position", "matchers", "min_severity", "continue_matching", "is_default",
            "receivers", "escalation_policy",
        ]

    def clean_matchers(self):
        return _clean_matchers(self.cleaned_data["matchers"], required=False)


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    form = RouteForm
    list_display = ["position", "name", "matchers", "min_severity", "continue_matching",
                    "is_default", "escalation_policy"]
    list_display_links = ["name"]
    filter_horizontal = ["receivers"]


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
class SilenceAdmin(admin.ModelAdmin):
    form = SilenceForm
    list_display = ["matchers", "kind", "starts_at", "ends_at", "weekdays", "window_start",
                    "window_end", "time_zone", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
