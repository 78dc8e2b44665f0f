"""Posting webhooks the way Alertmanager does, through the whole Django stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.test import Client

INGEST = "/api/v1/alertmanager/"


@contextmanager
def keep_schema() -> Iterator[None]:
    """Requests through the test client switch the shared connection's
    schema (tenant middleware); give the test its own back afterwards."""
    tenant = connection.tenant
    try:
        yield
    finally:
        connection.set_tenant(tenant)


def post(client: Client, payload, key: str | None = None, path: str = INGEST, **extra):
    """POST a body (dict → JSON) with an ingest key, keeping the test's schema."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    with keep_schema():
        return client.post(
            path,
            data=body,
            content_type=extra.pop("content_type", "application/json"),
            **headers,
            **extra,
        )


def public_client() -> Client:
    """A client on a host that is no tenant's domain: the public site, where ingest lives."""
    return Client(HTTP_HOST="127.0.0.1")
