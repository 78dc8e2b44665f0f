"""Login hardening shared by both admins: audited logins and lockouts (django-axes
counts the failures), and password reset by email without user enumeration."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.infra.rate_limits import rate_item, shared_limiter

logger = logging.getLogger(__name__)
audit_logger = logging.getLogger("herald.audit")


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer's, or behind HERALD_TRUSTED_PROXY_HOPS proxies the
    entry of X-Forwarded-For that the outermost of them added. Entries further left
    come from the client and are never trusted (anyone can forge them)."""
    hops = settings.HERALD_TRUSTED_PROXY_HOPS
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops > 0 and forwarded:
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        if len(entries) >= hops:
            return entries[-hops][:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def site_audit_record(**fields) -> None:
    """`audit_record` on the current site: a tenant's chain on its site, the operators'
    chain on the public site (the operators' admin), which also writes one structured
    line (without before/after) to the `herald.audit` log stream."""
    audit_record(**fields)
    if connection.schema_name != get_public_schema_name():
        return
    audit_logger.info(
        "operators' admin: %s by %s from %s", fields.get("action"), fields.get("actor"),
        fields.get("ip") or "?", extra={"audit": {k: v for k, v in fields.items()
                                                  if k not in ("before", "after")}},
    )


def login_audit(*, request: HttpRequest, username: str, action: str) -> None:
    """One audit record of a login event (login, login_failed, login_locked_out)."""
    site_audit_record(
        actor=username[:150], source=AuditSource.ADMIN, action=action, ip=client_ip(request)
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """django-axes calls this for every attempt it refuses: audited, then a 429 page that
    says the same for any username (locked by name or by address)."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))
    login_audit(request=request, username=username, action="login_locked_out")
    return render(
        request, "admin/login_locked_out.html",
        {"cooloff_minutes": _cooloff_minutes(), "title": _("Too many failed logins")},
        status=429,
    )


def _cooloff_minutes() -> int | None:
    hours = settings.AXES_COOLOFF_TIME
    return round(hours * 60) if hours else None


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view: the same "sent if it exists" answer for every address, and at
    most HERALD_PASSWORD_RESET_RATE_LIMIT requests per client address and per email
    address; requests over it get the same answer and send nothing."""

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()
        keys = (f"ip:{client_ip(self.request)}", f"email:{digest}")
        if not all(_allowed(key) for key in keys):
            logger.warning("password reset refused: over the rate limit")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _allowed(key: str) -> bool:
    try:
        return shared_limiter().hit(
            rate_item(settings.HERALD_PASSWORD_RESET_RATE_LIMIT), "herald-password-reset", key
        )
    except Exception:  # the counter store is down: fail open, as every limiter here does
        logger.warning("password reset rate limit unavailable", exc_info=True)
        return True


def password_reset_urls(site) -> list:
    """The reset views inside an admin site's URLs (namespaced by the site's name)."""
    name = site.name

    def context(request: HttpRequest | None = None) -> dict:
        return {"site_header": site.site_header, "site_title": site.site_title}

    class Reset(RateLimitedPasswordResetView):
        email_template_name = "registration/herald_password_reset_email.txt"
        extra_email_context = {"confirm_url_name": f"{name}:password_reset_confirm"}
        extra_context = context()

        def get_success_url(self) -> str:
            return reverse(f"{name}:password_reset_done")

    class Confirm(auth_views.PasswordResetConfirmView):
        extra_context = context()

        def get_success_url(self) -> str:
            return reverse(f"{name}:password_reset_complete")

    return [
        path("password_reset/", Reset.as_view(), name="password_reset"),
        path("password_reset/done/",
             auth_views.PasswordResetDoneView.as_view(extra_context=context()),
             name="password_reset_done"),
        path("reset/<uidb64>/<token>/", Confirm.as_view(), name="password_reset_confirm"),
        path("reset/done/",
             auth_views.PasswordResetCompleteView.as_view(extra_context=context()),
             name="password_reset_complete"),
    ]


def login_page_context(site) -> dict:
    return {"password_reset_url": reverse(f"{site.name}:password_reset")}

