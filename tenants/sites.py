"""The tenant admin site: only the tenant's members get in, and logins are audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest

from tenants.roles import request_role


class TenantAuthenticationForm(AdminAuthenticationForm):
    """Membership of this tenant replaces Django's is_staff as the way in."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_member": "This account is not a member of this tenant.",
    }

    def confirm_login_allowed(self, user) -> None:
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        if request_role(self.request, user=user) is None:
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")


class TenantAdminSite(admin.AdminSite):
    site_header = "Herald"
    site_title = "Herald"
    login_form = TenantAuthenticationForm
    index_template = "admin/herald_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request_role(request) is not None

    def login(self, request: HttpRequest, extra_context=None):
        from alerting.audit.services import audit_record

        response = super().login(request, extra_context)
        if request.method == "POST" and getattr(request, "tenant", None) is not None:
            succeeded = response.status_code == 302 and request.user.is_authenticated
            audit_record(
                actor=request.user.get_username() if succeeded
                else str(request.POST.get("username", ""))[:150],
                source="admin",
                action="login" if succeeded else "login_failed",
                ip=client_ip(request),
            )
        return response

    def get_urls(self):
        from django.urls import path

        from alerting.overview import overview_view

        return [
            path("overview/", self.admin_view(overview_view(self)), name="overview"),
            *super().get_urls(),
        ]


def client_ip(request: HttpRequest) -> str:
    """The peer's address. Behind a proxy, configure it to set REMOTE_ADDR (not trusted
    X-Forwarded-For headers, which any client can forge)."""
    return request.META.get("REMOTE_ADDR", "")[:45]
