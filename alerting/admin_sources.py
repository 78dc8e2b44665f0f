"""The tenant admin for ingest sources (Grafana, PagerDuty Events, generic JSON).

A source's secret (Grafana's HMAC secret) is write-only: typed in, never
shown again, kept when the field is left empty, redacted in the audit trail.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alerting.admin_generic_json import GenericJsonConsoleMixin
from alerting.audit.admin import AuditedAdminMixin
from alerting.fields import encrypted_value_readable
from alerting.models import IngestSource, IngestSourceKind
from alerting.sources.services import ingest_source_check
from tenants.models import IngestKey
from tenants.roles import RolePermissionsMixin

_ENDPOINTS = {
    IngestSourceKind.GRAFANA: "/api/v1/grafana/ (Authorization: Bearer <key>)",
    IngestSourceKind.PAGERDUTY_EVENTS: "/api/v1/events/v2/enqueue (routing_key = <key>)",
    IngestSourceKind.GENERIC_JSON: "/api/v1/sources/<name>/ (Authorization: Bearer <key>)",
}


class IngestSourceForm(forms.ModelForm):
    ingest_key_prefix = forms.ChoiceField(
        label=_("Ingest key"), help_text=_("The tenant's ingest key this source posts with.")
    )
    hmac_secret = forms.CharField(
        label=_("HMAC secret"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Grafana: the contact point's HMAC signature secret. Empty: keep the saved "
                    "one (or none)."),
    )
    clear_hmac_secret = forms.BooleanField(
        label=_("Remove the saved HMAC secret"), required=False
    )

    class Meta:
        model = IngestSource
        fields = ["name", "kind", "ingest_key_prefix", "config", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keys = IngestKey.objects.filter(tenant_id=connection.tenant.pk, revoked_at=None)
        choices = [(key.prefix, f"{key.name} ({key.prefix}…)") for key in keys.order_by("name")]
        current = self.instance.ingest_key_prefix
        if current and current not in dict(choices):
            choices.append((current, _("%(prefix)s… (revoked or gone)") % {"prefix": current}))
        self.fields["ingest_key_prefix"].choices = choices

    def clean(self):
        cleaned = super().clean()
        secrets = {}
        if self.instance.pk:
            if not encrypted_value_readable(self.instance, "secrets"):
                raise forms.ValidationError(
                    _("The saved secrets cannot be decrypted (HERALD_ENCRYPTION_KEYS): "
                      "delete this source and add it again.")
                )
            secrets = dict(self.instance.secrets or {})
        if cleaned.get("clear_hmac_secret"):
            secrets.pop("hmac_secret", None)
        if cleaned.get("hmac_secret"):
            secrets["hmac_secret"] = cleaned["hmac_secret"]
        try:
            ingest_source_check(
                kind=cleaned.get("kind", ""),
                ingest_key_prefix=cleaned.get("ingest_key_prefix", ""),
                config=cleaned.get("config") or {}, secrets=secrets,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                field = field.split(".")[0]
                if field == "secrets":
                    field = "hmac_secret"
                self.add_error(field if field in self.fields else None, messages)
        self.instance.secrets = secrets
        return cleaned


@admin.register(IngestSource)
class IngestSourceAdmin(
    GenericJsonConsoleMixin, RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin
):
    form = IngestSourceForm
    list_display = ["name", "kind", "ingest_key_prefix", "enabled", "signed", "endpoint"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["mapping_console"]
    audit_secret_fields = ("secrets",)

    @admin.display(description=_("Signed"), boolean=True)
    def signed(self, obj: IngestSource) -> bool | None:
        if not encrypted_value_readable(obj, "secrets"):
            return None  # shown as unknown: no configured key decrypts it
        return bool((obj.secrets or {}).get("hmac_secret"))

    @admin.display(description=_("Posts to"))
    def endpoint(self, obj: IngestSource):
        return format_html("<code>{}</code>", _ENDPOINTS.get(obj.kind, ""))
