"""Who may edit whose profile: members their own, editors and admins anyone's.

Auditors read every profile and edit only their own (they may be on call
too). Checked by the admin's permission hooks and querysets.
"""

from __future__ import annotations

from django.http import HttpRequest

from escalation.models import Person
from tenants.models import Role
from tenants.roles import request_role, role_at_least


def may_edit_everyone(request: HttpRequest) -> bool:
    return role_at_least(request, Role.EDITOR)


def may_edit_person(request: HttpRequest, person: Person | None) -> bool:
    """Editors and admins any profile; any other member only their own."""
    if request_role(request) is None:
        return False
    if may_edit_everyone(request):
        return True
    return person is not None and person.user_id == request.user.pk


def people_editable(request: HttpRequest, queryset):
    """The people of `queryset` the request's user may edit."""
    if may_edit_everyone(request):
        return queryset
    if request_role(request) is None:
        return queryset.none()
    return queryset.filter(user_id=request.user.pk)
