"""The iCal feeds' secret URLs: /calendars/<tenant>/<schedules|people>/<id>/<token>.ics.

Any wrong part (tenant, kind, id, token) gets the same 404, so a guess learns
nothing about which part was wrong. The URL is the only credential, so the
answer is private to its holder's cache and never indexed or sent on as a
referrer. A client that sends back the feed's ETag gets a 304 when nothing changed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe
from django_tenants.utils import tenant_context

from escalation.calendars import calendar_feed_now, calendar_feed_object
from escalation.schedules.zones import UnknownZone
from tenants.models import Tenant

_MAX_TOKEN_LENGTH = 200  # the field's bound; a longer token cannot match


def _plain(body: bytes, *, status: int) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


def _not_found() -> HttpResponse:
    # One body for every wrong part, whatever DEBUG says.
    return _plain(b"No such calendar.\n", status=404)


@require_safe  # GET, and HEAD, which some calendar clients send first
def calendar_feed(request: HttpRequest, tenant_slug: str, feed: str, object_id: int,
                  token: str) -> HttpResponse:
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None or len(token) > _MAX_TOKEN_LENGTH:
        return _not_found()
    with tenant_context(tenant):
        obj = calendar_feed_object(feed=feed, object_id=object_id, token=token)
        if obj is None:
            return _not_found()
        try:
            answer = calendar_feed_now(
                obj=obj, if_none_match=request.headers.get("If-None-Match", ""))
        except UnknownZone:
            return _plain(b"This schedule's time zone is not one this server knows; "
                          b"fix it in the admin.\n", status=409)
    if answer.body is None:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(answer.body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{feed}-{obj.pk}.ics"'
    response["ETag"] = f'"{answer.etag}"'
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
