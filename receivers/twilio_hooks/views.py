"""Twilio's callbacks: a send's status, a key pressed on a call, an SMS to Herald's number.

Each is checked before anything is read from it: the tenant the URL names,
then X-Twilio-Signature against the exact public URL with the auth token of
the receiver the callback is about (403 when it is wrong or missing, and
nothing changes), then that the message it reports on is the one this URL
names in this tenant (404 otherwise: another tenant's message, a made-up
id). Bodies are bounded. The answers are TwiML.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from receivers.models import Receiver
from receivers.transports.twilio_voice import answer_twiml, message_twiml
from receivers.twilio_hooks.selectors import (
    receiver_auth_token,
    twilio_notification,
    twilio_receiver,
)
from receivers.twilio_hooks.services import (
    twilio_key_press,
    twilio_sms_reply,
    twilio_status_record,
)
from receivers.twilio_hooks.signature import (
    SIGNATURE_HEADER,
    public_url,
    twilio_signature_valid,
)
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Twilio's forms are a few dozen short fields; an SMS body is at most 1,600 characters.
BODY_LIMIT = 32 * 1024
_FIELD_LIMIT = 2_000


def _twiml(text: str = "<Response/>", status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/xml; charset=utf-8")


def _refused() -> HttpResponse:
    return _twiml(status=403)


def _not_found() -> HttpResponse:
    return _twiml(status=404)


def _tenant(request: HttpRequest, slug: str) -> Tenant | None:
    """The tenant the URL names; on a tenant's own host, only that tenant."""
    host = getattr(request, "tenant", None)
    if host is not None and getattr(host, "schema_name", "public") != "public" \
            and host.slug != slug:
        return None
    return Tenant.objects.filter(slug=slug).first()


def _too_big(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > BODY_LIMIT
    except ValueError:
        return True


def _path_and_query(request: HttpRequest) -> str:
    """The path as Herald wrote it into the URL it gave Twilio (no script prefix)."""
    query = request.META.get("QUERY_STRING", "")
    return request.path_info + (f"?{query}" if query else "")


def _signed(request: HttpRequest, receiver: Receiver) -> bool:
    return twilio_signature_valid(
        auth_token=receiver_auth_token(receiver),
        url=public_url(_path_and_query(request)),
        form=request.POST,
        signature=request.headers.get(SIGNATURE_HEADER),
    )


def _field(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name) or "")[:_FIELD_LIMIT]


def _language(receiver: Receiver) -> str:
    language = (receiver.config or {}).get("language")
    return language if language in {"en", "fr", "de"} else "en"


def _reported(request: HttpRequest, tenant_slug: str, notification_id: int, *, sid_field: str):
    """(tenant, notification) a signed callback is about, or the refusal to answer with."""
    if _too_big(request):
        return None, _twiml(status=413)
    tenant = _tenant(request, tenant_slug)
    if tenant is None:
        return None, _not_found()
    with tenant_context(tenant):
        notification = twilio_notification(notification_id=notification_id)
        if notification is None:
            return None, _not_found()
        if not _signed(request, notification.receiver):
            return None, _refused()
        sid = _field(request, sid_field)
        if not sid or (notification.vendor_ref or {}).get("sid") != sid:
            return None, _not_found()  # not the message this URL was given for
    return (tenant, notification), None


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, tenant_slug: str, notification_id: int) -> HttpResponse:
    """StatusCallback of an SMS (MessageStatus) or a call (CallStatus)."""
    if _too_big(request):  # before the form is read
        return _twiml(status=413)
    is_call = "CallSid" in request.POST
    found, refusal = _reported(request, tenant_slug, notification_id,
                               sid_field="CallSid" if is_call else "MessageSid")
    if refusal is not None:
        return refusal
    tenant, notification = found
    status = _field(request, "CallStatus" if is_call else "MessageStatus")
    with tenant_context(tenant):
        done = twilio_status_record(notification=notification, status=status)
    logger.info("twilio status %r for notification %s: %s", status[:32], notification.id, done)
    return _twiml()


@csrf_exempt
@require_POST
def twilio_gather(request: HttpRequest, tenant_slug: str, notification_id: int) -> HttpResponse:
    """The key a person pressed on a page's call (<Gather numDigits="1">)."""
    found, refusal = _reported(request, tenant_slug, notification_id, sid_field="CallSid")
    if refusal is not None:
        return refusal
    tenant, notification = found
    with tenant_context(tenant):
        said = twilio_key_press(notification=notification, digits=_field(request, "Digits"),
                                number=_field(request, "To"))
    return _twiml(answer_twiml(said, language=_language(notification.receiver)))


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest, tenant_slug: str, receiver_id: int) -> HttpResponse:
    """An SMS to the receiver's number (its "A message comes in" webhook): a reply code."""
    if _too_big(request):
        return _twiml(status=413)
    tenant = _tenant(request, tenant_slug)
    if tenant is None:
        return _not_found()
    with tenant_context(tenant):
        receiver = twilio_receiver(receiver_id=receiver_id)
        if receiver is None:
            return _not_found()
        if not _signed(request, receiver):
            return _refused()
        answer = twilio_sms_reply(receiver=receiver, number=_field(request, "From"),
                                  body=_field(request, "Body"))
    return _twiml(message_twiml(answer))
