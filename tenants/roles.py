"""Who may do what in a tenant's admin: roles from memberships, checked on the server.

Operators (superusers of the operators' site) act as admins in every tenant:
they run Herald and can read every schema anyway; hiding tenants from them
would only push them to the database shell, which leaves no audit trail.
"""

from __future__ import annotations

from django.http import HttpRequest

from tenants.models import Role, TenantMembership

_RANK = {Role.AUDITOR: 1, Role.EDITOR: 2, Role.ADMIN: 3}


def role_for(*, user, tenant) -> Role | None:
    """The user's role in the tenant, or None when they are no member."""
    if user is None or not user.is_authenticated or not user.is_active or tenant is None:
        return None
    if user.is_superuser:
        return Role.ADMIN
    role = (
        TenantMembership.objects.filter(user_id=user.pk, tenant_id=tenant.pk)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def request_role(request: HttpRequest, *, user=None) -> Role | None:
    """The role of the request's user (or `user`) in the request's tenant, once per request."""
    user = user or request.user
    tenant = getattr(request, "tenant", None)
    if getattr(tenant, "schema_name", "public") == "public":
        return None
    cache = request.__dict__.setdefault("_herald_roles", {})
    if user.pk not in cache:
        cache[user.pk] = role_for(user=user, tenant=tenant)
    return cache[user.pk]


def role_at_least(request: HttpRequest, minimum: Role) -> bool:
    role = request_role(request)
    return role is not None and _RANK[role] >= _RANK[minimum]


class RolePermissionsMixin:
    """ModelAdmin permissions from the tenant role instead of Django's global perms.

    Django's model permissions live in the shared schema and would apply to
    every tenant at once; a role is per tenant. `view_role` may look,
    `edit_role` may add, change and delete, `act_role` may run the actions
    marked `allowed_permissions = ("act",)`. Admins that are read-only
    override the has_*_permission methods to return False.
    """

    view_role: Role = Role.AUDITOR
    edit_role: Role = Role.EDITOR
    act_role: Role = Role.EDITOR

    def has_module_permission(self, request):
        return role_at_least(request, self.view_role)

    def has_view_permission(self, request, obj=None):
        return role_at_least(request, self.view_role)

    def has_add_permission(self, request, *args):
        return role_at_least(request, self.edit_role)

    def has_change_permission(self, request, obj=None):
        return role_at_least(request, self.edit_role)

    def has_delete_permission(self, request, obj=None):
        return role_at_least(request, self.edit_role)

    def has_act_permission(self, request, obj=None):
        return role_at_least(request, self.act_role)
