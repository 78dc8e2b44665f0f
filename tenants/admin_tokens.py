"""The tenant admin's page for its API tokens: create (the secret shown once) and
revoke; only the tenant's admins. Imported by tenants/admin.py for autodiscovery."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerting.audit.admin import AuditedAdminMixin
from tenants.models import ApiScope, Role, TenantApiToken
from tenants.roles import RolePermissionsMixin
from tenants.services import api_token_create, hashed_key_revoke

_EXPIRY_CHOICES = [("7", _("in 7 days")), ("30", _("in 30 days")), ("90", _("in 90 days")),
                   ("365", _("in a year")), ("", _("never"))]


class ApiTokenCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, initial=[ApiScope.READ], widget=forms.CheckboxSelectMultiple,
        label=_("Scopes"),
        help_text=_("Give only what the tool needs; a token's scopes never change."),
    )
    expires = forms.ChoiceField(
        label=_("Expires"), choices=_EXPIRY_CHOICES, initial="90", required=False
    )

    class Meta:
        model = TenantApiToken
        fields = ["name"]

    def clean(self):
        cleaned = super().clean()
        days = cleaned.get("expires")
        cleaned["expires_at"] = timezone.now() + timedelta(days=int(days)) if days else None
        return cleaned


@admin.register(TenantApiToken)
class TenantApiTokenAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """API tokens are created or revoked, never edited; revoked ones stay, for the record."""

    view_role = edit_role = act_role = Role.ADMIN
    audit_secret_fields = ("key_hash",)
    form = ApiTokenCreateForm
    list_display = ["name", "prefix", "scope_list", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=connection.tenant)

    def get_fields(self, request, obj=None):
        if obj:
            return ["name", "prefix", "scope_list", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
        return ["name", "scopes", "expires"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj:  # the read-only page needs no custom fields
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj) -> str:
        return ", ".join(obj.scopes)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        request._herald_audit = (None, None)
        # The form's choices are what the service accepts.
        token, plain = api_token_create(
            tenant=connection.tenant, name=obj.name, scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        self.message_user(
            request, _("API token %(name)r (%(scopes)s): %(token)s (shown once: copy it now).")
            % {"name": obj.name, "scopes": ", ".join(token.scopes), "token": plain},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected tokens (at once, everywhere)"),
                  permissions=["act"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            before = self._audit_state(token)
            hashed_key_revoke(key=token)
            self._audit(request, action="revoke", obj=token, before=before,
                        after=self._audit_state(token))
        self.message_user(request, _("Revoked."))
