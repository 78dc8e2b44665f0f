"""Writes on tenant memberships (who may use a tenant's admin, in which role)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.models import Role, Tenant, TenantMembership

UNKNOWN_MEMBER = _(
    "No account of that name can be added here. Ask an operator to create it, "
    "then add it with its exact username."
)


def membership_candidate(*, username: str) -> User | None:
    """A user who may be made a member: active, and no operator (they are admins of
    every tenant already). None for anyone else, whether the name exists or not."""
    return User.objects.filter(username=username, is_active=True, is_superuser=False).first()


def membership_set(*, tenant: Tenant, username: str, role: str) -> TenantMembership:
    """Give a user (who must exist) a role in the tenant, or change it."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    user = membership_candidate(username=username)
    if user is None:
        raise ValidationError({"username": [UNKNOWN_MEMBER]})
    membership, _ = TenantMembership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    return membership
