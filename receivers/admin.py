"""The tenant admin for receivers and their notification history."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from receivers.models import DeliveryAttempt, Notification, Receiver
from receivers.services import receiver_secret_set


def masked(value: str) -> str:
    return "••••" + value[-4:] if len(value) > 8 else "••••"


class ReceiverForm(forms.ModelForm):
    url = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the saved URL.",
    )

    class Meta:
        model = Receiver
        fields = ["name", "kind", "enabled", "config", "max_attempts"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("url") and not (self.instance.pk and self.instance.secrets.get("url")):
            self.add_error("url", "A URL is required.")
        return cleaned


@admin.register(Receiver)
class ReceiverAdmin(admin.ModelAdmin):
    form = ReceiverForm
    list_display = ["name", "kind", "enabled", "url_masked", "updated_at"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["url_masked"]
    fields = ["name", "kind", "enabled", "url", "url_masked", "config", "max_attempts"]

    @admin.display(description="Saved URL")
    def url_masked(self, obj: Receiver) -> str:
        return masked(obj.secrets.get("url", "")) if obj.pk else "—"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("url"):
            receiver_secret_set(receiver=obj, name="url", value=form.cleaned_data["url"])


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
        "created_at", "receiver_name", "channel", "status", "state", "attempts",
        "last_http_status", "last_latency_ms",
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
