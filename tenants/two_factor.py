"""TOTP two-factor for tenant members (django-otp): enrolment with a QR code or the
secret and a confirmation code; a tenant may require it (Tenant.require_two_factor)."""

from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from tenants.login_security import client_ip
from tenants.roles import request_role


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The user's unconfirmed device to enrol, made once (a reload shows the same secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm the device with a code from the app; the other unconfirmed ones go."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def two_factor_token_check(*, user: User, token: str):
    """The confirmed device the code belongs to, or None."""
    return match_token(user, (token or "").strip())


def two_factor_enrolled(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def two_factor_required(request: HttpRequest) -> bool:
    return bool(getattr(getattr(request, "tenant", None), "require_two_factor", False))


class ConfirmForm(forms.Form):
    token = forms.CharField(label=_("Code from the app"), max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))


def enroll_view(site):
    """The enrolment page of the tenant admin: any member, logged in with a password."""

    @never_cache  # it shows the secret: no cache may keep it
    def view(request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or request_role(request) is None:
            return HttpResponseRedirect(reverse(f"{site.name}:login") + "?next=" + request.path)
        if two_factor_enrolled(user) and user.is_verified():
            return HttpResponseRedirect(reverse(f"{site.name}:index"))
        device = totp_device_pending(user=user)
        form = ConfirmForm(request.POST or None)
        if form.is_valid():
            if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
                otp_login(request, device)
                audit_record(actor=user.get_username(), source=AuditSource.ADMIN,
                             action="two_factor_enrolled", obj_type="otp_totp.totpdevice",
                             obj_id=device.pk, obj_repr=device.name, ip=client_ip(request))
                return HttpResponseRedirect(reverse(f"{site.name}:index"))
            form.add_error(
                "token", _("That code is not valid: check the app's clock and retry.")
            )
        context = {
            **site.each_context(request),
            "title": _("Two-factor authentication"),
            "form": form,
            "required": two_factor_required(request),
            "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
            "secret": base64.b32encode(device.bin_key).decode(),
        }
        return TemplateResponse(request, "admin/two_factor_enroll.html", context)

    return view
