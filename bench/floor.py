"""The framework floor: the least a Django and DRF hop costs, with nothing of Herald's.

A WSGI application of its own (no database, no middleware, no authentication),
served by the same gunicorn the benchmarks run Herald under, so a figure of
Herald's can be read against what the fixed stack costs before Herald does any
work of its own:

- ``POST /ingest`` parses the JSON body with DRF and answers 200
  (`make bench-ingest`: Herald's webhook against a webhook that does nothing);
- ``POST /forward`` parses it the same way and posts it on to
  ``FLOOR_FORWARD_URL`` with requests over a kept-alive session before it
  answers (`make bench`: Alertmanager → one more hop → receiver, with no
  storage, queue, worker, routing or rendering between).

Run it with ``gunicorn --chdir bench floor:application``.
"""

from __future__ import annotations

import os
import threading

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-floor-not-a-secret",  # noqa: S106 - signs nothing
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["rest_framework"],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    },
)
django.setup()

import requests  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

_local = threading.local()


def _session() -> requests.Session:
    # As Herald's outbound path does: one kept-alive session per thread.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False
    return session


class IngestFloor(APIView):
    def post(self, request):
        return Response({"status": "ok", "alerts": len(request.data.get("alerts", []))})


class ForwardFloor(APIView):
    def post(self, request):
        _session().post(os.environ["FLOOR_FORWARD_URL"], json=request.data, timeout=5)
        return Response({"status": "ok"})


urlpatterns = [path("ingest", IngestFloor.as_view()), path("forward", ForwardFloor.as_view())]

application = get_wsgi_application()
