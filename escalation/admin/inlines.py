"""What the escalation admin's inlines share: their parent's role checks, the actor."""

from __future__ import annotations

from django.http import HttpRequest

from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor
from tenants.sites import client_ip


class RoleInlineMixin:
    """Inlines follow their parent's role checks (Django would ask global perms)."""

    def has_view_permission(self, request, obj=None):
        return self.parent_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def parent_admin(self):
        return self.admin_site._registry[self.parent_model]


def admin_actor(request: HttpRequest) -> AuditActor:
    """The member acting through the admin, as the audit trail names them."""
    return AuditActor(name=request.user.get_username(), source=AuditSource.ADMIN,
                      ip=client_ip(request))
