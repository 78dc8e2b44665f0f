"""Operator endpoints on the public site: /metrics and the health checks."""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from alerting.infra.health import liveness, readiness
from alerting.infra.metrics import metrics_registry


def _metrics_authorised(header: str) -> bool:
    """True when the credentials match one that is configured.

    With none configured, /metrics is open in demo mode only (runherald --demo
    makes and prints a token anyway); elsewhere it stays closed: it names
    tenants and receivers, and production refuses to start without one
    (tenants/checks.py).
    """
    token, basic = settings.HERALD_METRICS_BEARER_TOKEN, settings.HERALD_METRICS_BASIC_AUTH
    if not token and not basic:
        return settings.HERALD_DEMO
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if token and scheme == "bearer":
        return hmac.compare_digest(value.strip().encode(), token.encode())
    if basic and scheme == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(given, basic.encode())
    return False


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_authorised(request.headers.get("Authorization", "")):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        scheme = "Basic" if settings.HERALD_METRICS_BASIC_AUTH else "Bearer"
        response["WWW-Authenticate"] = f'{scheme} realm="herald-metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse(liveness())


@require_GET
@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    ready, report = readiness()
    return JsonResponse(report, status=200 if ready else 503)
