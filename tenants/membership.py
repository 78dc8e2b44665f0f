"""Writes on tenant memberships (who may use a tenant's admin, in which role)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tenants.models import Role, Tenant, TenantMembership


def membership_set(*, tenant: Tenant, username: str, role: str) -> TenantMembership:
    """Give a user (who must exist) a role in the tenant, or change it."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": [f"No user {username!r}."]})
    membership, _ = TenantMembership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    return membership
