"""The page a chat's "link your account" link opens: a signed-in member binds the account."""

from __future__ import annotations

from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor
from escalation.people.chat_links import (
    ChatAccounts,
    ChatLinkError,
    chat_account_link,
    chat_link_read,
)
from escalation.people.selectors import person_of_user
from tenants.models import TenantMembership

_TEMPLATE = "chat/link.html"


def chat_link_page(request: HttpRequest, token: str, *, accounts: ChatAccounts) -> HttpResponse:
    tenant = getattr(request, "tenant", None)
    if getattr(tenant, "schema_name", "public") == "public":
        return render(request, _TEMPLATE, {"accounts": accounts, "problem": (
            _("Open this link on your organisation's Herald address.")
        )}, status=404)
    if not request.user.is_authenticated:
        return redirect(f"/admin/login/?next={quote(request.path)}")
    context: dict = {"accounts": accounts, "tenant": tenant}
    try:
        claim = chat_link_read(accounts=accounts, token=token, tenant=tenant)
    except ChatLinkError as exc:
        return render(request, _TEMPLATE, {**context, "problem": str(exc)}, status=exc.status)
    member = request.user.is_superuser or TenantMembership.objects.filter(
        tenant_id=tenant.pk, user_id=request.user.pk
    ).exists()
    person = person_of_user(user_id=request.user.pk) if member else None
    if person is None:
        return render(request, _TEMPLATE, {**context, "problem": _(
            "You have no on-call profile in this organisation: an admin adds you to the "
            "people first."
        )}, status=403)
    context.update(claim=claim, person=person)
    if request.method == "POST":
        by = AuditActor(name=request.user.get_username(), source=AuditSource.ADMIN,
                        ip=request.META.get("REMOTE_ADDR", ""))
        try:
            chat_account_link(accounts=accounts, claim=claim, person=person, by=by)
        except ValidationError as exc:
            return render(request, _TEMPLATE, {**context, "problem": " ".join(exc.messages)},
                          status=409)
        context["linked"] = True
    return render(request, _TEMPLATE, context)
