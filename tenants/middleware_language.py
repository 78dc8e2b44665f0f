"""The viewer's language and time zone, chosen per request.

Language: the person's profile (escalation's Person.language) when the
logged-in user has one in this tenant, else the first of the browser's
Accept-Language that Herald speaks, else the tenant's default_language, else
settings.LANGUAGE_CODE. Time zone: the profile's, else the tenant's, else UTC.
Django's LocaleMiddleware is not used: it knows neither profiles nor tenants.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

_MAX_ACCEPT_LANGUAGE = 500  # a browser's header is a few dozen bytes; bound a hostile one


def language_from_accept(header: str) -> str | None:
    """The first language of an Accept-Language header that Herald speaks, if any."""
    for code, _quality in parse_accept_lang_header(header[:_MAX_ACCEPT_LANGUAGE]):
        if code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def language_choose(*, profile: str | None, accept: str, tenant_default: str | None) -> str:
    """Profile, else browser, else tenant, else the server's default (pure)."""
    for candidate in (profile, language_from_accept(accept), tenant_default):
        if not candidate:
            continue
        try:
            return translation.get_supported_language_variant(candidate)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _profile(request):
    """The logged-in user's person in this tenant (None in the shared schema)."""
    user = getattr(request, "user", None)
    tenant = getattr(connection, "tenant", None)
    if user is None or not user.is_authenticated or tenant is None:
        return None
    if tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    from escalation.people.selectors import person_of_user  # tenant app, loaded late

    return person_of_user(user_id=user.pk)


class TenantLanguageMiddleware:
    """Activates the chosen language and time zone; after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        person = _profile(request)
        tenant = getattr(connection, "tenant", None)
        is_tenant = tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME
        language = language_choose(
            profile=getattr(person, "language", None),
            accept=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
            tenant_default=getattr(tenant, "default_language", None) if is_tenant else None,
        )
        zone = _zone(getattr(person, "time_zone", "") or "") or (
            _zone(getattr(tenant, "time_zone", "") or "") if is_tenant else None
        )
        translation.activate(language)
        request.LANGUAGE_CODE = language
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        # Not deactivated after the view: a streamed export formats as it streams.
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response
