"""Jira's sync-back endpoint: one URL per tenant and receiver.

Checked before anything is read: the body's size, the tenant the URL names,
the receiver (a Jira receiver of that tenant, enabled), then the receiver's
webhook secret (403 when wrong or missing: nothing changes). Only then is
the body parsed (400 naming the wrong fields). Answers are JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from receivers.jira_hooks.payload import (
    BODY_LIMIT,
    SECRET_HEADER,
    SIGNATURE_HEADER,
    PayloadError,
    issue_change_read,
    jira_request_authentic,
)
from receivers.jira_hooks.selectors import jira_receiver, jira_receiver_settings
from receivers.jira_hooks.services import jira_change_apply
from receivers.vendor_webhooks import answer, body_too_big, webhook_tenant


@csrf_exempt
@require_POST
def jira_webhook(request: HttpRequest, tenant_slug: str, receiver_id: int) -> JsonResponse:
    """An issue's change, posted by the Jira webhook registered for this receiver."""
    if body_too_big(request, limit=BODY_LIMIT):
        return answer(413, error="the body is over 1 MB")
    tenant = webhook_tenant(request, tenant_slug)
    if tenant is None:
        return answer(404, error="no such receiver")
    with tenant_context(tenant):
        receiver = jira_receiver(receiver_id=receiver_id)
        if receiver is None:
            return answer(404, error="no such receiver")
        settings = jira_receiver_settings(receiver)
        body = request.body
        if settings is None or not jira_request_authentic(
            secret=settings.secret("webhook_secret"), body=body,
            url_secret=request.GET.get("secret"),
            header_secret=request.headers.get(SECRET_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
        ):
            return answer(403, error="the request does not carry this receiver's secret")
        try:
            change = issue_change_read(body)
        except PayloadError as exc:
            return answer(400, errors=exc.errors)
        outcome = jira_change_apply(
            tenant=tenant, receiver=receiver, settings=settings, change=change,
            ip=request.META.get("REMOTE_ADDR", ""),
        )
    return answer(outcome.status, result=outcome.result, message=outcome.message)
