"""ServiceNow's sync-back endpoint: one URL per tenant and receiver.

Checked before anything is read: the body's size, the tenant the URL names,
the receiver (a ServiceNow receiver of that tenant, enabled), then the
receiver's webhook secret (403 when wrong or missing: nothing changes). Only
then is the body parsed (400 naming the wrong fields). Answers are JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from receivers.servicenow_hooks.payload import (
    BODY_LIMIT,
    SECRET_HEADER,
    SIGNATURE_HEADER,
    PayloadError,
    incident_change_read,
    servicenow_request_authentic,
)
from receivers.servicenow_hooks.selectors import (
    servicenow_receiver,
    servicenow_receiver_settings,
)
from receivers.servicenow_hooks.services import servicenow_change_apply
from receivers.vendor_webhooks import answer, body_too_big, webhook_tenant


@csrf_exempt
@require_POST
def servicenow_webhook(request: HttpRequest, tenant_slug: str, receiver_id: int) -> JsonResponse:
    """An incident's change, posted by the instance's Business Rule."""
    if body_too_big(request, limit=BODY_LIMIT):
        return answer(413, error="the body is over 64 KB")
    tenant = webhook_tenant(request, tenant_slug)
    if tenant is None:
        return answer(404, error="no such receiver")
    with tenant_context(tenant):
        receiver = servicenow_receiver(receiver_id=receiver_id)
        if receiver is None:
            return answer(404, error="no such receiver")
        settings = servicenow_receiver_settings(receiver)
        body = request.body
        if len(body) > BODY_LIMIT:  # sent without a Content-Length
            return answer(413, error="the body is over 64 KB")
        if settings is None or not servicenow_request_authentic(
            secret=settings.secret("webhook_secret"), body=body,
            shared_secret=request.headers.get(SECRET_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
        ):
            return answer(403, error="the request is not signed with this receiver's secret")
        try:
            change = incident_change_read(body)
        except PayloadError as exc:
            return answer(400, errors=exc.errors)
        outcome = servicenow_change_apply(
            tenant=tenant, receiver=receiver, settings=settings, change=change,
            ip=request.META.get("REMOTE_ADDR", ""),
        )
    return answer(outcome.status, result=outcome.result, message=outcome.message)
