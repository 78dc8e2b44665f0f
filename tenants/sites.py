"""The admin sites: the tenant admin (only the tenant's members get in, with a second
factor when the tenant requires one) and the operators' base; logins on both are
audited, throttled by django-axes, and offer a password reset by email."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login

from tenants.login_security import client_ip, login_audit, password_reset_urls
from tenants.roles import request_role
from tenants.two_factor import (
    enroll_view,
    two_factor_enrolled,
    two_factor_required,
    two_factor_token_check,
)

__all__ = ["AuditedLoginSite", "TenantAdminSite", "client_ip"]


class TenantAuthenticationForm(AdminAuthenticationForm):
    """Membership of this tenant replaces Django's is_staff as the way in; a member with
    a confirmed authenticator also gives its current code."""

    otp_token = forms.CharField(
        label=_("Two-factor code"), required=False, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        help_text=_("Only if you enrolled an authenticator app."),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_member": _("This account is not a member of this tenant."),
        "otp": _("Enter the current code of your authenticator app."),
    }

    def confirm_login_allowed(self, user) -> None:
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        if request_role(self.request, user=user) is None:
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")
        if two_factor_enrolled(user):
            device = two_factor_token_check(user=user, token=self.cleaned_data.get("otp_token"))
            if device is None:
                raise forms.ValidationError(self.error_messages["otp"], code="otp")
            self.request._herald_otp_device = device


class AuditedLoginSite(admin.AdminSite):
    """Every login and failed login is audited; the login page links to a reset."""

    def login(self, request: HttpRequest, extra_context=None):
        extra_context = {
            "password_reset_url": reverse(f"{self.name}:password_reset"), **(extra_context or {})
        }
        response = super().login(request, extra_context)
        # A refusal by django-axes is audited by its lockout response (login_security).
        locked = getattr(request, "axes_locked_out", False)
        if request.method == "POST" and response.status_code in (200, 302) and not locked:
            succeeded = response.status_code == 302 and request.user.is_authenticated
            device = getattr(request, "_herald_otp_device", None)
            if succeeded and device is not None:
                otp_login(request, device)
            login_audit(
                request=request,
                username=request.user.get_username() if succeeded
                else str(request.POST.get("username", "")),
                action="login" if succeeded else "login_failed",
            )
        return response

    def get_urls(self):
        return [*password_reset_urls(self), *super().get_urls()]


class TenantAdminSite(AuditedLoginSite):
    site_header = "Herald"
    site_title = "Herald"
    login_form = TenantAuthenticationForm
    index_template = "admin/herald_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not (request.user.is_active and request_role(request) is not None):
            return False
        return not two_factor_required(request) or request.user.is_verified()

    def login(self, request: HttpRequest, extra_context=None):
        user = request.user
        if (request.method == "GET" and user.is_authenticated and two_factor_required(request)
                and request_role(request) is not None and not user.is_verified()
                and not two_factor_enrolled(user)):
            return HttpResponseRedirect(reverse(f"{self.name}:two_factor"))
        return super().login(request, extra_context)

    def get_urls(self):
        from alerting.overview import overview_view

        return [
            path("overview/", self.admin_view(overview_view(self)), name="overview"),
            path("two-factor/", enroll_view(self), name="two_factor"),
            *super().get_urls(),
        ]
