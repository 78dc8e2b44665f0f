"""Bearer credentials that select a tenant: ingest keys and read-API tokens."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

from tenants.models import Tenant
from tenants.selectors import tenant_for_api_token, tenant_for_ingest_key


def bearer_credentials(request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


class _TenantKeyAuthentication(authentication.BaseAuthentication):
    """`request.auth` becomes the key's tenant.

    Missing and unknown keys get the same answer, so a caller learns nothing
    about which tenants exist.
    """

    resolve: Callable[..., Tenant | None]
    message: str
    realm: str

    def key_from(self, request) -> str:
        return bearer_credentials(request)

    def authenticate(self, request):
        tenant = type(self).resolve(key=self.key_from(request))
        if tenant is None:
            raise exceptions.AuthenticationFailed(self.message)
        return (None, tenant)

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.realm}"'


class IngestKeyAuthentication(_TenantKeyAuthentication):
    """Alertmanager's key: `Authorization: Bearer <key>`, or in the URL path."""

    resolve = staticmethod(tenant_for_ingest_key)
    message = "A valid ingest key is required."
    realm = "herald-ingest"

    def key_from(self, request) -> str:
        return request.parser_context["kwargs"].get("key") or bearer_credentials(request)


class ApiTokenAuthentication(_TenantKeyAuthentication):
    resolve = staticmethod(tenant_for_api_token)
    message = "A valid API token is required."
    realm = "herald-api"


class _BearerScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema documents our bearer credentials."""

    bearer_format: str

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - the scheme's name, not a secret
            bearer_format=self.bearer_format,
        )


class IngestKeyScheme(_BearerScheme):
    target_class = IngestKeyAuthentication
    name = "ingestKey"
    bearer_format = "hk_…"


class ApiTokenScheme(_BearerScheme):
    target_class = ApiTokenAuthentication
    name = "apiToken"
    bearer_format = "ht_…"


class TenantFromCredentialsMixin:
    """Work in the schema of the tenant the credentials belong to, whatever the host."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        connection.set_tenant(request.auth)
