"""Bearer credentials that select a tenant: ingest keys and scoped API tokens."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions, permissions

from tenants.models import ApiScope, ApiToken, Tenant
from tenants.selectors import api_token_for_key, ingest_key_confirm, tenant_for_ingest_key
from tenants.services import api_token_mark_used


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


def ingest_key_check(request) -> Callable[[int | None], None]:
    """What ingest calls with the configuration version its upsert read: refuses
    (rolling the upsert back) a key revoked since this process last checked it."""

    def check(version: int | None) -> None:
        key = IngestKeyAuthentication().key_from(request)
        if not ingest_key_confirm(key=key, tenant=request.auth, version=version):
            raise exceptions.AuthenticationFailed(IngestKeyAuthentication.message)

    return check


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`request.auth` becomes the token (its tenant in `.tenant`).

    Unknown tokens get one answer; a revoked or expired token is told so, as
    only its holder can present it.
    """

    realm = "herald-api"

    def authenticate(self, request):
        token = api_token_for_key(key=bearer_credentials(request))
        if token is None:
            raise exceptions.AuthenticationFailed("A valid API token is required.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API token has expired.")
        api_token_mark_used(token=token, now=now)
        return (None, token)

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.realm}"'


# An action whose scope depends on what it acts on; its handler calls scope_require.
SCOPE_DECIDED_BY_HANDLER = "decided by the handler"


class TokenHasScope(permissions.BasePermission):
    """403 naming the scope the action needs, from the view's `action_scopes`.

    An action a view does not list needs `read` when it only reads (GET,
    HEAD, OPTIONS) and `write` otherwise, so a new action is never open by
    omission.
    """

    def has_permission(self, request, view) -> bool:
        scope = view.action_scopes.get(view.action)
        if scope == SCOPE_DECIDED_BY_HANDLER:
            return True
        if scope is None:
            safe = request.method in permissions.SAFE_METHODS
            scope = ApiScope.READ if safe else ApiScope.WRITE
        scope_require(token=request.auth, scope=scope, doing=view.action or request.method)
        return True


def scope_require(*, token: ApiToken, scope: str, doing: str) -> None:
    if scope not in token.scopes:
        raise exceptions.PermissionDenied(
            f"This API token lacks the scope '{scope}', needed for {doing}"
            f" (its scopes: {', '.join(token.scopes) or 'none'})."
        )


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
        auth = request.auth
        connection.set_tenant(auth.tenant if isinstance(auth, ApiToken) else auth)


class ScopedTokenMixin(TenantFromCredentialsMixin):
    """An API token view: each action needs the scope `action_scopes` names."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [TokenHasScope]
    action_scopes: dict[str, str] = {}
