"""Posting webhooks the way Alertmanager does, through the whole Django stack."""

from __future__ import annotations

import json

from django.db import connection
from django.test import Client

INGEST = "/api/v1/alertmanager/"


def post(client: Client, payload, key: str | None = None, path: str = INGEST, **extra):
    """POST a body (dict → JSON), then return the connection to the test's schema.

    The tenant middleware switches the shared connection's schema; the test
    that called us expects its own back.
    """
    tenant = connection.tenant
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    try:
        return client.post(
            path,
            data=body,
            content_type=extra.pop("content_type", "application/json"),
            **headers,
            **extra,
        )
    finally:
        connection.set_tenant(tenant)


def public_client() -> Client:
    """A client on a host that is no tenant's domain: the public site, where ingest lives."""
    return Client(HTTP_HOST="127.0.0.1")
