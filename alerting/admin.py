"""The tenant admin for alerts and alert groups (read-only: Alertmanager owns them)."""

from django.contrib import admin

from alerting.models import Alert, AlertGroup


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
