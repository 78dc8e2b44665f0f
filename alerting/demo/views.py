"""The demo sink: records what Herald delivers to it and shows it on a page.

Mounted only when HERALD_DEMO is on, so a newcomer sees a delivered
notification without any external service.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from alerting.demo.models import SinkRequest

_MAX_BODY = 256 * 1024


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@csrf_exempt  # a machine-to-machine endpoint standing in for a vendor's webhook
@require_http_methods(["GET", "POST"])
def sink(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        entry = SinkRequest.objects.create(
            path=request.path[:500],
            content_type=request.content_type or "",
            body=request.body[:_MAX_BODY].decode("utf-8", errors="replace"),
        )
        return JsonResponse({"ok": True, "id": entry.id})
    entries = [
        {"entry": entry, "pretty": _pretty(entry.body)}
        for entry in SinkRequest.objects.all()[:50]
    ]
    return render(request, "demo/sink.html", {"entries": entries})
