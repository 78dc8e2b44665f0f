"""The production WSGI application: the webhook's lean lane answers as the full stack does.

Served by a real WSGI server on loopback (wsgiref, in a thread), as gunicorn
serves `alerting.infra.wsgi:application`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from django.db import connections
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from tests.factories import ReceiverFactory, WebhookPayloadFactory
from tests.ingest import INGEST


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def production_server(committed_tenants) -> Iterator[str]:
    from alerting.infra.wsgi import application

    def served(environ, start_response):
        try:
            return list(application(environ, start_response))
        finally:
            connections.close_all()  # the server thread's, before the test database goes

    server = make_server("127.0.0.1", 0, served, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_alertmanager_post_is_stored_and_answered_without_browser_machinery(
    production_server, committed_tenants, ingest_key
):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory()
    payload = WebhookPayloadFactory()

    response = requests.post(
        production_server + INGEST, json=payload,
        headers={"Authorization": f"Bearer {ingest_key(alpha)}"}, timeout=10,
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "alerts": 1, "notifications": 1}
    # No session, CSRF cookie or browser policy on a machine's JSON answer...
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    # ...but the security headers every answer carries.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with tenant_context(alpha):
        assert AlertGroup.objects.get().group_key == payload["groupKey"]


def test_the_lane_refuses_as_the_api_documents(production_server, committed_tenants, ingest_key):
    unknown = requests.post(
        production_server + INGEST, json=WebhookPayloadFactory(),
        headers={"Authorization": "Bearer hk_not-a-key"}, timeout=10,
    )
    key = ingest_key(committed_tenants["alpha"])
    malformed = requests.post(
        production_server + INGEST, json={"version": "3"},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    )
    keyed_path = requests.post(
        f"{production_server}{INGEST}{key}/", json=WebhookPayloadFactory(), timeout=10
    )

    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"] == 'Bearer realm="herald-ingest"'
    assert malformed.status_code == 400
    assert "version" in malformed.json()
    assert keyed_path.status_code == 200


def test_people_pages_keep_their_browser_protections(production_server, committed_tenants):
    login = requests.get(production_server + "/admin/login/", timeout=10)

    assert login.status_code == 200
    assert "Content-Security-Policy" in login.headers
    assert login.headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in login.cookies
