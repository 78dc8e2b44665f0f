"""Ingest keys: `Authorization: Bearer <key>`, or the key in the URL path."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from tenants.selectors import tenant_for_ingest_key


class IngestKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates Alertmanager; `request.auth` becomes the tenant.

    Missing and unknown keys get the same answer, so a caller learns nothing
    about which tenants exist.
    """

    def authenticate(self, request):
        key = request.parser_context["kwargs"].get("key")
        if not key:
            scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
            key = credentials.strip() if scheme.lower() == "bearer" else ""
        tenant = tenant_for_ingest_key(key=key)
        if tenant is None:
            raise exceptions.AuthenticationFailed("A valid ingest key is required.")
        return (None, tenant)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="herald-ingest"'
